// What a controller bound to a wildcard address advertises (advertise.hpp),
// against made-up name lookups, and what wait_for_engines names when engines
// do not come.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <vector>

#include "../../controller/src/advertise.hpp"
#include "cluster.hpp"
#include "test_support.hpp"

using cannery::detail::choose_advertised_host;
using cannery::test::capture_error;

namespace {

// A name lookup that knows these names only.
auto lookup(std::map<std::string, std::vector<std::string>> names) {
  return [names](const std::string& name) {
    auto it = names.find(name);
    return it == names.end() ? std::vector<std::string>{} : it->second;
  };
}

const std::string bound = "tcp://0.0.0.0:5555";

}  // namespace

TEST_CASE("a wildcard bind advertises a host that other hosts can reach", "[controller]") {
  const std::vector<std::string> interfaces{"127.0.0.1", "10.1.2.3"};
  // The host's name resolves to a real address: the name.
  CHECK(choose_advertised_host("", "node-7", lookup({{"node-7", {"10.1.2.3"}}}), interfaces,
                               bound) == "node-7");
  // It resolves to loopback (Debian's /etc/hosts: 127.0.1.1): an interface's address.
  CHECK(choose_advertised_host("", "node-7", lookup({{"node-7", {"127.0.1.1"}}}), interfaces,
                               bound) == "10.1.2.3");
  // It does not resolve at all: the same.
  CHECK(choose_advertised_host("", "node-7", lookup({}), interfaces, bound) == "10.1.2.3");
  // Given, and resolving: as given.
  CHECK(choose_advertised_host("head", "node-7", lookup({{"head", {"10.9.9.9"}}}), interfaces,
                               bound) == "head");
}

TEST_CASE("a wildcard bind that no other host could reach is refused, saying what to set",
          "[controller]") {
  const cannery::error given = capture_error(
      [] { choose_advertised_host("no-such-name", "node-7", lookup({}), {"10.1.2.3"}, bound); });
  CHECK(given.code() == cannery::errc::invalid_argument);
  CHECK_THAT(given.message(), Catch::Contains("'no-such-name' does not resolve"));

  const cannery::error none = capture_error([] {
    choose_advertised_host("", "node-7", lookup({{"node-7", {"127.0.1.1"}}}), {"127.0.0.1"}, bound);
  });
  CHECK(none.code() == cannery::errc::invalid_argument);
  CHECK_THAT(none.message(), Catch::Contains("resolves to no address but loopback") &&
                                 Catch::Contains("ControllerOptions::advertised_host"));
}

TEST_CASE("wait_for_engines names the endpoint the engines were given, and the bind",
          "[controller]") {
  cannery::ControllerOptions options = cannery::test::fast_options();
  options.endpoint = "tcp://0.0.0.0:0";
  options.advertised_host = "localhost";
  cannery::Controller controller(options);
  REQUIRE(controller.endpoint().starts_with("tcp://localhost:"));
  const cannery::error e =
      capture_error([&] { controller.wait_for_engines(1, std::chrono::milliseconds(50)); });
  CHECK(e.code() == cannery::errc::timeout);
  CHECK_THAT(e.message(),
             Catch::Contains("at " + controller.endpoint() + " (bound as tcp://0.0.0.0:"));
}
