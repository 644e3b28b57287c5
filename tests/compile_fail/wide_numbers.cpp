// Must not compile: numbers wider than any reader of the wire format takes.
// msgpack has 64-bit integers and float 32 / float 64; numpy has no 128-bit
// integer dtype, and its '<f16' is the platform's long double (x87 80-bit on
// x86-64), not IEEE binary128. Built in GNU mode (-std=gnu++20), where
// __int128 counts as an integral type and __float128 as a floating-point one:
// that is how they slipped through (an __int128 went out truncated to 64 bits,
// a std::vector<__int128> as dtype '<i16').
// CANNERY_CASE_<name> picks the value. With CANNERY_COMPILE_FAIL_CONTROL it is
// the nearest cannable type instead and the file must compile.

#include <cstdint>
#include <vector>

#include <cannery/canning.hpp>

#ifdef CANNERY_COMPILE_FAIL_CONTROL
#define CANNERY_WIDE(refused, accepted) accepted
#else
#define CANNERY_WIDE(refused, accepted) refused
#endif

#if defined(CANNERY_CASE_int128)
using Value = CANNERY_WIDE(__int128, std::int64_t);
const Value value = Value{1} << 62;
#elif defined(CANNERY_CASE_uint128_vector)
using Value = std::vector<CANNERY_WIDE(unsigned __int128, std::uint64_t)>;
const Value value{1, 2, 3};
#elif defined(CANNERY_CASE_float128)
using Value = CANNERY_WIDE(__float128, double);
const Value value = 1;
#elif defined(CANNERY_CASE_float128_vector)
using Value = std::vector<CANNERY_WIDE(__float128, double)>;
const Value value{1, 2, 3};
#elif defined(CANNERY_CASE_long_double)
using Value = CANNERY_WIDE(long double, double);
const Value value = 1;
#else
#error "define one CANNERY_CASE_<name>"
#endif

int main() {
  auto frames = cannery::serialize_object(value);
  return frames.empty() ? 1 : 0;
}
