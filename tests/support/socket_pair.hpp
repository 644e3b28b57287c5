#pragma once
// Connected socket pairs over inproc, ipc (in a fresh temp dir) and tcp on
// 127.0.0.1 with an ephemeral port, for messaging tests.

#include <unistd.h>
#include <filesystem>
#include <string>

#include <zmq.hpp>

#include "test_support.hpp"

namespace cannery::test {

enum class Transport { inproc, ipc, tcp };

inline const char* transport_name(Transport t) {
  return t == Transport::inproc ? "inproc" : t == Transport::ipc ? "ipc" : "tcp";
}

// `server` binds, `client` connects; receive timeouts keep a failing test
// from hanging.
struct SocketPair {
  SocketPair(zmq::context_t& context, Transport transport, zmq::socket_type server_type,
             zmq::socket_type client_type)
      : server(context, server_type), client(context, client_type) {
    for (zmq::socket_t* s : {&server, &client}) {
      s->set(zmq::sockopt::linger, 0);
      s->set(zmq::sockopt::rcvtimeo, 5000);
      s->set(zmq::sockopt::sndtimeo, 5000);
    }
    static int counter = 0;
    switch (transport) {
      case Transport::inproc:
        server.bind("inproc://pair-" + std::to_string(::getpid()) + "-" +
                    std::to_string(++counter));
        break;
      case Transport::ipc:
        server.bind("ipc://" + (dir.path() / "socket").string());
        break;
      case Transport::tcp:
        server.bind("tcp://127.0.0.1:*");
        break;
    }
    endpoint = server.get(zmq::sockopt::last_endpoint);
    client.connect(endpoint);
  }

  TempDir dir;
  zmq::socket_t server;
  zmq::socket_t client;
  std::string endpoint;
};

}  // namespace cannery::test
