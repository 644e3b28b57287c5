#pragma once
// Canners for scalars and text: null, bool, integers, floats, complex, strings.

#include <complex>
#include <concepts>
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include "cannery/canning/dtype.hpp"
#include "cannery/canning/format.hpp"
#include "cannery/canning/node.hpp"
#include "cannery/canning/writer.hpp"

namespace cannery {

template <>
struct canner<std::nullptr_t> {
  static void can(Writer& w, std::nullptr_t) { w.nil(); }
  static std::nullptr_t uncan(const Node& n) {
    if (!n.is_null()) n.fail(errc::type_mismatch, "expected null, got " + n.kind_name());
    return nullptr;
  }
};

template <>
struct canner<std::monostate> {
  static void can(Writer& w, std::monostate) { w.nil(); }
  static std::monostate uncan(const Node& n) {
    canner<std::nullptr_t>::uncan(n);
    return {};
  }
};

template <>
struct canner<bool> {
  static void can(Writer& w, bool value) { w.boolean(value); }
  static bool uncan(const Node& n) { return n.to_bool(); }
};

// Integers of up to 64 bits (detail::wire_integer: not __int128).
template <detail::wire_integer I>
struct canner<I> {
  static void can(Writer& w, I value) { w.integer(value); }
  static I uncan(const Node& n) { return n.to_integer<I>(); }
};

// float and double (detail::wire_float: not long double or __float128).
template <detail::wire_float F>
struct canner<F> {
  static void can(Writer& w, F value) { w.floating(value); }
  static F uncan(const Node& n) { return n.to_floating<F>(); }
};

// Payload: [real, imaginary], each a float of the complex's precision.
template <detail::wire_float F>
struct canner<std::complex<F>> {
  static constexpr std::string_view tag = format::tag_complex;
  static void can(Writer& w, const std::complex<F>& value) {
    w.array(2);
    w.floating(value.real());
    w.floating(value.imag());
  }
  static std::complex<F> uncan(const Node& n) {
    n.expect_size(2);
    return {n[0].to_floating<F>(), n[1].to_floating<F>()};
  }
};

// Text that is not valid UTF-8 travels as bytes (Writer::string), so both
// are read back.
template <>
struct canner<std::string> {
  static void can(Writer& w, const std::string& value) { w.string(value); }
  static std::string uncan(const Node& n) { return std::string(n.to_text_view()); }
};

// Uncanned as a view into the received frames: valid while they are.
template <>
struct canner<std::string_view> {
  static void can(Writer& w, std::string_view value) { w.string(value); }
  static std::string_view uncan(const Node& n) { return n.to_text_view(); }
};

template <>
struct canner<const char*> {
  static void can(Writer& w, const char* value) { w.string(value); }
};

template <std::size_t N>
struct canner<char[N]> {
  static void can(Writer& w, const char (&value)[N]) {
    w.string(std::string_view(value, value[N - 1] == '\0' ? N - 1 : N));
  }
};

}  // namespace cannery
