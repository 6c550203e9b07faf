#include "store/store.hpp"

#include <future>

namespace ruche::store {

namespace {
const std::string kEmpty;
}

int64_t Row::Int(size_t i) const {
  const Value& v = columns.at(i);
  if (auto p = std::get_if<int64_t>(&v)) {
    return *p;
  }
  if (auto p = std::get_if<double>(&v)) {
    return static_cast<int64_t>(*p);
  }
  return 0;
}

double Row::Real(size_t i) const {
  const Value& v = columns.at(i);
  if (auto p = std::get_if<double>(&v)) {
    return *p;
  }
  if (auto p = std::get_if<int64_t>(&v)) {
    return static_cast<double>(*p);
  }
  return 0;
}

const std::string& Row::Text(size_t i) const {
  const Value& v = columns.at(i);
  if (auto p = std::get_if<std::string>(&v)) {
    return *p;
  }
  return kEmpty;
}

Result<std::optional<Row>> Connection::QueryOne(std::string_view sql,
                                                std::initializer_list<Value> params) {
  auto rows = Query(sql, params);
  if (!rows) {
    return rows.error();
  }
  if (rows->empty()) {
    return std::optional<Row>{};
  }
  return std::optional<Row>(std::move(rows->front()));
}

Result<void> Store::WriteSync(WriteFn fn) {
  std::promise<Result<void>> promise;
  auto future = promise.get_future();
  Write(std::move(fn), [&promise](Result<void> r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::string Placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += i == 0 ? "?" : ", ?";
  }
  return out;
}

}  // namespace ruche::store
