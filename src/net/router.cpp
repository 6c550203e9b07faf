#include "net/router.hpp"

namespace ruche::net {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;  // paths start with '/'
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) {
      slash = path.size();
    }
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

}  // namespace

Router::Router() = default;
Router::~Router() = default;

void Router::Add(std::string method, std::string pattern, Handler handler, RouteOptions options) {
  auto route = std::make_unique<Route>();
  route->method = std::move(method);
  route->pattern = std::move(pattern);
  route->handler = std::move(handler);
  route->options = options;
  for (auto seg : SplitPath(route->pattern)) {
    route->segments.emplace_back(seg);
    if (!seg.empty() && seg.front() == '{') {
      route->literal = false;
    }
  }
  if (route->literal) {
    literal_[route->method + " " + route->pattern] = route.get();
    literal_paths_[route->pattern].push_back(route->method);
  } else {
    patterned_.push_back(route.get());
  }
  routes_.push_back(std::move(route));
}

void Router::AddWebSocket(std::string pattern, WebSocketHandler handler) {
  Add("GET", std::move(pattern), nullptr);
  routes_.back()->ws_handler = std::move(handler);
}

Router::Match Router::Find(std::string_view method, Request& request) const {
  std::string_view m = method == "HEAD" ? std::string_view("GET") : method;
  std::string key;
  key.reserve(m.size() + 1 + request.path.size());
  key.append(m).append(" ").append(request.path);
  if (auto it = literal_.find(key); it != literal_.end()) {
    return {MatchKind::kFound, it->second, {}};
  }

  std::vector<std::string_view> allowed;
  if (auto it = literal_paths_.find(std::string(request.path)); it != literal_paths_.end()) {
    allowed.assign(it->second.begin(), it->second.end());
  }
  auto segs = SplitPath(request.path);
  std::vector<std::pair<std::string_view, std::string>> params;
  for (const Route* route : patterned_) {
    params.clear();
    const auto& pat = route->segments;
    bool ok = true;
    size_t i = 0;
    for (; i < pat.size() && ok; ++i) {
      const std::string& p = pat[i];
      bool is_param = !p.empty() && p.front() == '{';
      bool is_rest = is_param && p.size() > 5 && p.compare(p.size() - 4, 4, "...}") == 0;
      if (is_rest) {
        if (i >= segs.size()) {
          ok = false;
          break;
        }
        // The rest of the raw path, from this segment on.
        std::string_view rest(segs[i].data(),
                              request.path.data() + request.path.size() - segs[i].data());
        std::string decoded;
        if (!PercentDecode(rest, decoded)) {
          return {MatchKind::kBadPath, nullptr, {}};
        }
        params.emplace_back(std::string_view(p).substr(1, p.size() - 5), std::move(decoded));
        i = pat.size();
        break;
      }
      if (i >= segs.size()) {
        ok = false;
      } else if (is_param) {
        if (segs[i].empty()) {
          ok = false;
        } else {
          std::string decoded;
          if (!PercentDecode(segs[i], decoded)) {
            return {MatchKind::kBadPath, nullptr, {}};
          }
          params.emplace_back(std::string_view(p).substr(1, p.size() - 2), std::move(decoded));
        }
      } else if (segs[i] != p) {
        ok = false;
      }
    }
    bool rest_matched = !route->segments.empty() && route->segments.back().ends_with("...}");
    if (!ok || (!rest_matched && segs.size() != pat.size())) {
      continue;
    }
    if (route->method != m) {
      allowed.push_back(route->method);
      continue;
    }
    request.params = std::move(params);
    return {MatchKind::kFound, route, {}};
  }
  if (allowed.empty()) {
    return {MatchKind::kNotFound, nullptr, {}};
  }
  // RFC 9110 §15.5.6: a 405 lists the methods the resource supports.
  std::string allow;
  for (auto method : allowed) {
    if (allow.find(method) != std::string::npos) {
      continue;
    }
    if (!allow.empty()) {
      allow += ", ";
    }
    allow += method;
    if (method == "GET") {
      allow += ", HEAD";
    }
  }
  return {MatchKind::kMethodNotAllowed, nullptr, std::move(allow)};
}

}  // namespace ruche::net
