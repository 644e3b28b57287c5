// Must not compile: serialize_object on a struct nobody taught cannery about.
// The build's output must carry the static assertion of canner.hpp, which
// says how to fix it (CANNERY_FIELDS, CANNERY_RAW_BYTES or a canner).
// With CANNERY_COMPILE_FAIL_CONTROL defined the struct gets a canner and the
// file must compile: that proves the only error is the missing canner.

#include <cannery/canning.hpp>

namespace demo {

struct NoCanner {
  int value = 0;
};
#ifdef CANNERY_COMPILE_FAIL_CONTROL
CANNERY_FIELDS(NoCanner, value)
#endif

}  // namespace demo

int main() {
  demo::NoCanner item{42};
  auto frames = cannery::serialize_object(item);
  return frames.empty() ? 1 : 0;
}
