// Must not compile: a std::vector of a struct with no canner. The error must
// name the vector's element type as the culprit and say how to fix it.
// With CANNERY_COMPILE_FAIL_CONTROL defined the struct gets a canner and the
// file must compile.

#include <vector>

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
  std::vector<demo::NoCanner> items(3);
  auto frames = cannery::serialize_object(items);
  return frames.empty() ? 1 : 0;
}
