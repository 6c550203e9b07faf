#include "cal/public_url.hpp"

#include <cctype>

namespace ruche::cal {

std::string PublicBaseUrl(const core::Config& config, const net::Request& request) {
  if (!config.public_base_url.empty()) {
    std::string b = config.public_base_url;
    while (!b.empty() && b.back() == '/') {
      b.pop_back();
    }
    return b;
  }
  std::string host(request.Header("Host").value_or("localhost"));
  for (char c : host) {
    bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
              c == '[' || c == ']';
    if (!ok) {
      return "http://localhost";
    }
  }
  return "http://" + host;
}

}  // namespace ruche::cal
