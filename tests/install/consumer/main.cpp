// A program outside the cannery tree, built against the installed package:
// cans an apply message, signs it into a Jupyter envelope and reads it back.
#include <cannery/canning.hpp>
#include <cannery/messaging/session.hpp>
#include <iostream>

int main() {
  cannery::SessionOptions options;
  options.key = "consumer-key";
  cannery::Session session(options);
  cannery::Message message = session.message("apply_request");
  message.buffers = cannery::pack_apply_message("scale", std::vector<double>(6, 1.0), 2.5);
  cannery::Message received = session.deserialize(session.serialize(message));

  auto call = cannery::unpack_apply_message(received.buffers);
  auto values = call.next_arg<std::vector<double>>();
  double factor = call.next_arg<double>();
  std::cout << "consumer: " << values.size() << " x " << factor << " = "
            << static_cast<double>(values.size()) * factor << "\n";
  return 0;
}
