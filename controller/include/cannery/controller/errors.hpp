#pragma once
// The failures a task can end with, beyond cannery::error(timeout).

#include <cstdint>
#include <string>

#include "cannery/canning/error.hpp"

namespace cannery {

// The function raised on the engine. type() is the engine's ename
// ("cannery.<errc>" for a cannery::error, else the C++ exception type) and
// message() its evalue, unchanged; what() adds which engine and function.
// code() is the remote cannery::error's code when it had one (type_mismatch
// for "cannery.type_mismatch"), errc::remote_error for anything else thrown.
class RemoteError : public error {
 public:
  RemoteError(int engine_id, std::string function, std::string type, const std::string& message);

  int engine_id() const noexcept { return engine_id_; }
  const std::string& function() const noexcept { return function_; }
  const std::string& type() const noexcept { return type_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  int engine_id_;
  std::string function_;
  std::string type_;
  std::string what_;
};

// The engine running the task stopped (went silent, vanished, or restarted)
// and no retries were left.
class EngineDied : public error {
 public:
  EngineDied(int engine_id, const std::string& why);

  int engine_id() const noexcept { return engine_id_; }

 private:
  int engine_id_;
};

// A result kept on an engine (ApplyOptions::keep_result) is gone: the engine
// that held its only copy died, or another engine could not fetch it from
// there. code() is errc::object_lost; the message names the ref, the engine
// and the function whose result it was. Running that function again makes it
// anew.
class ObjectLost : public error {
 public:
  ObjectLost(std::uint64_t ref_id, int engine_id, std::string function, std::string why);

  std::uint64_t ref_id() const noexcept { return ref_id_; }
  // The engine that held it.
  int engine_id() const noexcept { return engine_id_; }
  // The function whose result it was.
  const std::string& function() const noexcept { return function_; }
  // Why it is lost, without the ref's description.
  const std::string& why() const noexcept { return why_; }

 private:
  std::uint64_t ref_id_;
  int engine_id_;
  std::string function_;
  std::string why_;
};

}  // namespace cannery
