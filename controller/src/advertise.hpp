#pragma once
// What a controller bound to a wildcard address ("tcp://0.0.0.0:5555")
// writes into its connection file instead, so that engines on other hosts
// connect to this host and not to their own loopback. Header-only, with the
// name lookups passed in, so that a test can give it any host's answers.

#include <string>
#include <string_view>
#include <vector>

#include "cannery/canning/error.hpp"

namespace cannery::detail {

inline bool is_loopback_address(std::string_view address) {
  return address.starts_with("127.") || address == "::1";
}

// `requested` (ControllerOptions::advertised_host) when given: it must
// resolve here. Else this host's name, when it resolves to an address other
// than loopback (where it resolves to 127.0.1.1, as /etc/hosts often says,
// engines elsewhere would reach their own host), else the first address of
// `interfaces` (this host's, up) that is not loopback. Throws
// error(invalid_argument) saying what to set when none will do. `resolve`
// gives a name's addresses (empty: it does not resolve).
template <class Resolve>
std::string choose_advertised_host(const std::string& requested, const std::string& hostname,
                                   Resolve&& resolve, const std::vector<std::string>& interfaces,
                                   const std::string& bound) {
  if (!requested.empty()) {
    if (resolve(requested).empty()) {
      throw error(errc::invalid_argument,
                  "ControllerOptions::advertised_host '" + requested +
                      "' does not resolve on this host, so engines could not find the "
                      "controller bound at " +
                      bound +
                      " by it either; give an address of this host, or a name that resolves");
    }
    return requested;
  }
  for (const std::string& address : resolve(hostname))
    if (!is_loopback_address(address)) return hostname;
  for (const std::string& address : interfaces)
    if (!is_loopback_address(address)) return address;
  throw error(errc::invalid_argument,
              "the controller is bound at " + bound + ", but this host's name '" + hostname +
                  "' resolves to no address but loopback and no other interface is up, so "
                  "engines on other hosts could not reach it; set "
                  "ControllerOptions::advertised_host to an address or name by which they "
                  "reach this host, or bind a loopback interface for engines on this host only");
}

}  // namespace cannery::detail
