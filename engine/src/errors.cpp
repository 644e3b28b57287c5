#include "cannery/engine/errors.hpp"

#include <cxxabi.h>
#include <cstdlib>
#include <exception>
#include <memory>
#include <typeinfo>

#include "cannery/canning/error.hpp"

namespace cannery {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> readable(
      abi::__cxa_demangle(mangled, nullptr, nullptr, &status), std::free);
  return status == 0 && readable ? std::string(readable.get()) : std::string(mangled);
}

ErrorDescription describe_current_exception() {
  // The dynamic type of whatever was thrown, std::exception or not.
  const std::type_info* type = abi::__cxa_current_exception_type();
  std::string type_name = type != nullptr ? demangle(type->name()) : "unknown exception";
  try {
    throw;
  } catch (const error& e) {
    return {"cannery." + std::string(to_string(e.code())), e.message()};
  } catch (const std::exception& e) {
    return {std::move(type_name), e.what()};
  } catch (...) {
    return {std::move(type_name), "an exception that is not a std::exception"};
  }
}

}  // namespace cannery
