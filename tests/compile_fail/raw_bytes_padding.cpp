// Must not compile: CANNERY_RAW_BYTES on a struct that may hold padding
// bytes, which would send whatever memory they hold. CANNERY_CASE_<name>
// picks the struct; with CANNERY_COMPILE_FAIL_CONTROL its padding is made
// explicit members (or its members are listed) and the file must compile.

#include <cstdint>
#include <vector>

#include <cannery/canning.hpp>

namespace demo {

#if defined(CANNERY_CASE_raw_bytes_padding)
// 3 bytes of padding after `kind`.
struct Record {
  std::uint8_t kind;
#ifdef CANNERY_COMPILE_FAIL_CONTROL
  std::uint8_t pad[3];
#endif
  std::uint32_t value;
};
CANNERY_RAW_BYTES(Record)

#elif defined(CANNERY_CASE_raw_bytes_floats_unlisted)
// No padding, but floats: only a list of the members can prove it.
struct Record {
  float x, y;
};
#ifdef CANNERY_COMPILE_FAIL_CONTROL
CANNERY_RAW_BYTES(Record, x, y)
#else
CANNERY_RAW_BYTES(Record)
#endif

#elif defined(CANNERY_CASE_raw_bytes_padding_listed)
// 4 bytes of padding after `value`, every member listed.
struct Record {
  double time;
  float value;
#ifdef CANNERY_COMPILE_FAIL_CONTROL
  float spare;
#endif
};
#ifdef CANNERY_COMPILE_FAIL_CONTROL
CANNERY_RAW_BYTES(Record, time, value, spare)
#else
CANNERY_RAW_BYTES(Record, time, value)
#endif

#elif defined(CANNERY_CASE_raw_bytes_member_missing)
// No padding, but a member left out of the list.
struct Record {
  double a;
  double b;
};
#ifdef CANNERY_COMPILE_FAIL_CONTROL
CANNERY_RAW_BYTES(Record, a, b)
#else
CANNERY_RAW_BYTES(Record, a)
#endif

#elif defined(CANNERY_CASE_raw_bytes_long_double)
// x87 long double: 10 bytes of value in 16.
struct Record {
#ifdef CANNERY_COMPILE_FAIL_CONTROL
  double x;
#else
  long double x;
#endif
};
CANNERY_RAW_BYTES(Record, x)

#else
#error "define one CANNERY_CASE_<name>"
#endif

}  // namespace demo

int main() {
  std::vector<demo::Record> records(3);
  auto frames = cannery::serialize_object(records);
  return frames.empty() ? 1 : 0;
}
