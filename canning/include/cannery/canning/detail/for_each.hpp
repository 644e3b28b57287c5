#pragma once
// CANNERY_DETAIL_FOR_EACH(macro, type, names...): macro(type, name) once per
// name, in order. A C++20 __VA_OPT__ loop: each step defers the next one, and
// the nested EXPAND macros rescan the text enough times to run every step
// (4^4 levels: about 340 steps; the field-list macros allow 64 names and
// refuse more with a static_assert, which needs the steps to get there).
// Shared by the field-list macros (CANNERY_FIELDS, CANNERY_RAW_BYTES).

#define CANNERY_DETAIL_PARENS ()
#define CANNERY_DETAIL_EXPAND(...) \
  CANNERY_DETAIL_EXPAND4(          \
      CANNERY_DETAIL_EXPAND4(CANNERY_DETAIL_EXPAND4(CANNERY_DETAIL_EXPAND4(__VA_ARGS__))))
#define CANNERY_DETAIL_EXPAND4(...) \
  CANNERY_DETAIL_EXPAND3(           \
      CANNERY_DETAIL_EXPAND3(CANNERY_DETAIL_EXPAND3(CANNERY_DETAIL_EXPAND3(__VA_ARGS__))))
#define CANNERY_DETAIL_EXPAND3(...) \
  CANNERY_DETAIL_EXPAND2(           \
      CANNERY_DETAIL_EXPAND2(CANNERY_DETAIL_EXPAND2(CANNERY_DETAIL_EXPAND2(__VA_ARGS__))))
#define CANNERY_DETAIL_EXPAND2(...) \
  CANNERY_DETAIL_EXPAND1(           \
      CANNERY_DETAIL_EXPAND1(CANNERY_DETAIL_EXPAND1(CANNERY_DETAIL_EXPAND1(__VA_ARGS__))))
#define CANNERY_DETAIL_EXPAND1(...) __VA_ARGS__
#define CANNERY_DETAIL_FOR_EACH(macro, type, ...) \
  __VA_OPT__(CANNERY_DETAIL_EXPAND(CANNERY_DETAIL_FOR_EACH_STEP(macro, type, __VA_ARGS__)))
#define CANNERY_DETAIL_FOR_EACH_STEP(macro, type, first, ...) \
  macro(type, first)                                          \
      __VA_OPT__(CANNERY_DETAIL_FOR_EACH_AGAIN CANNERY_DETAIL_PARENS(macro, type, __VA_ARGS__))
#define CANNERY_DETAIL_FOR_EACH_AGAIN() CANNERY_DETAIL_FOR_EACH_STEP
