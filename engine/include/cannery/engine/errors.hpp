#pragma once
// How an exception thrown by a registered function is reported in an
// apply_reply (docs/protocol.md, "Error replies"): ename is "cannery.<errc>"
// for a cannery::error (e.g. "cannery.type_mismatch"), else the C++ type of
// the exception ("std::runtime_error", "mylib::SolverFailed"); evalue is its
// message.

#include <string>

namespace cannery {

struct ErrorDescription {
  std::string ename;
  std::string evalue;
};

// The exception being handled; call it inside a catch block.
ErrorDescription describe_current_exception();

// A readable C++ type name ("std::runtime_error") from a mangled one; the
// mangled text itself when it cannot be demangled.
std::string demangle(const char* mangled);

}  // namespace cannery
