#include "http_conn.hpp"

#include <strings.h>

#include <charconv>

namespace ruche::bench {

void HttpConn::Request(std::string_view method, std::string_view target, std::string_view token,
                       std::string_view body, Callback cb) {
  std::string wire;
  wire.reserve(200 + target.size() + body.size());
  wire.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  if (!token.empty()) {
    wire.append("Authorization: Bearer ").append(token).append("\r\n");
  }
  if (!body.empty() || method == "POST" || method == "PUT") {
    wire.append("Content-Type: application/json\r\nContent-Length: ")
        .append(std::to_string(body.size()))
        .append("\r\n");
  }
  wire.append("\r\n").append(body);
  queue_.push_back(Pending{std::move(wire), std::move(cb)});
  if (!in_flight_) {
    StartNext();
  }
}

void HttpConn::StartNext() {
  if (queue_.empty()) {
    return;
  }
  Pending p = std::move(queue_.front());
  queue_.pop_front();
  in_flight_ = true;
  current_ = std::move(p.cb);
  Write(p.wire);
}

void HttpConn::OnData() {
  while (in_flight_) {
    size_t head_end = in_.find("\r\n\r\n");
    if (head_end == std::string::npos) {
      return;
    }
    std::string_view head(in_.data(), head_end);
    if (head.size() < 12 || head.substr(0, 5) != "HTTP/") {
      Fatal("bad HTTP response head");
    }
    int status = 0;
    std::from_chars(head.data() + 9, head.data() + 12, status);
    size_t length = 0;
    size_t pos = 0;
    bool found = false;
    while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
      pos += 2;
      if (head.size() - pos > 15 && strncasecmp(head.data() + pos, "content-length:", 15) == 0) {
        size_t v = pos + 15;
        while (v < head.size() && head[v] == ' ') {
          ++v;
        }
        std::from_chars(head.data() + v, head.data() + head.size(), length);
        found = true;
        break;
      }
    }
    if (!found) {
      Fatal("HTTP response without Content-Length");
    }
    size_t total = head_end + 4 + length;
    if (in_.size() < total) {
      return;
    }
    body_.assign(in_, head_end + 4, length);
    in_.erase(0, total);
    in_flight_ = false;
    Callback cb = std::move(current_);
    StartNext();  // queued requests go out before the callback adds more
    cb(status, body_);
  }
}

std::string UrlEncode(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string JsonString(std::string_view json, std::string_view key) {
  std::string needle = "\"" + std::string(key) + "\":\"";
  size_t p = json.find(needle);
  if (p == std::string_view::npos) {
    return "";
  }
  p += needle.size();
  size_t e = json.find('"', p);
  if (e == std::string_view::npos) {
    return "";
  }
  return std::string(json.substr(p, e - p));
}

}  // namespace ruche::bench
