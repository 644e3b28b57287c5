// Must not compile: CANNERY_FIELDS past its limit of 64 fields, or with a
// tag that is empty or belongs to a built-in node. The errors must say so
// and what to do. With CANNERY_COMPILE_FAIL_CONTROL the struct has 64 fields
// and a tag of its own, and the file must compile.

#include <cannery/canning.hpp>

namespace demo {

#if defined(CANNERY_CASE_fields_65)
struct Wide {
  int f0 = 0;
  int f1 = 1;
  int f2 = 2;
  int f3 = 3;
  int f4 = 4;
  int f5 = 5;
  int f6 = 6;
  int f7 = 7;
  int f8 = 8;
  int f9 = 9;
  int f10 = 10;
  int f11 = 11;
  int f12 = 12;
  int f13 = 13;
  int f14 = 14;
  int f15 = 15;
  int f16 = 16;
  int f17 = 17;
  int f18 = 18;
  int f19 = 19;
  int f20 = 20;
  int f21 = 21;
  int f22 = 22;
  int f23 = 23;
  int f24 = 24;
  int f25 = 25;
  int f26 = 26;
  int f27 = 27;
  int f28 = 28;
  int f29 = 29;
  int f30 = 30;
  int f31 = 31;
  int f32 = 32;
  int f33 = 33;
  int f34 = 34;
  int f35 = 35;
  int f36 = 36;
  int f37 = 37;
  int f38 = 38;
  int f39 = 39;
  int f40 = 40;
  int f41 = 41;
  int f42 = 42;
  int f43 = 43;
  int f44 = 44;
  int f45 = 45;
  int f46 = 46;
  int f47 = 47;
  int f48 = 48;
  int f49 = 49;
  int f50 = 50;
  int f51 = 51;
  int f52 = 52;
  int f53 = 53;
  int f54 = 54;
  int f55 = 55;
  int f56 = 56;
  int f57 = 57;
  int f58 = 58;
  int f59 = 59;
  int f60 = 60;
  int f61 = 61;
  int f62 = 62;
  int f63 = 63;
#ifndef CANNERY_COMPILE_FAIL_CONTROL
  int f64 = 64;
#endif
};
#ifdef CANNERY_COMPILE_FAIL_CONTROL
CANNERY_FIELDS(Wide, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17,
               f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34,
               f35, f36, f37, f38, f39, f40, f41, f42, f43, f44, f45, f46, f47, f48, f49, f50, f51,
               f52, f53, f54, f55, f56, f57, f58, f59, f60, f61, f62, f63)
#else
CANNERY_FIELDS(Wide, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, f10, f11, f12, f13, f14, f15, f16, f17,
               f18, f19, f20, f21, f22, f23, f24, f25, f26, f27, f28, f29, f30, f31, f32, f33, f34,
               f35, f36, f37, f38, f39, f40, f41, f42, f43, f44, f45, f46, f47, f48, f49, f50, f51,
               f52, f53, f54, f55, f56, f57, f58, f59, f60, f61, f62, f63, f64)
#endif

#elif defined(CANNERY_CASE_fields_builtin_tag)
struct Wide {
  int f0 = 0;
};
#ifdef CANNERY_COMPILE_FAIL_CONTROL
CANNERY_FIELDS_TAGGED(Wide, "demo.Wide", f0)
#else
CANNERY_FIELDS_TAGGED(Wide, "list", f0)
#endif

#else
#error "define one CANNERY_CASE_<name>"
#endif

}  // namespace demo

int main() {
  auto frames = cannery::serialize_object(demo::Wide{});
  return cannery::deserialize_object<demo::Wide>(frames).value.f0;
}
