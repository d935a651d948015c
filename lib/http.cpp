#include <gauth/http.hpp>

#include "ascii.hpp"

#include <algorithm>

namespace gauth {

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (detail::ascii_lower(a[i]) != detail::ascii_lower(b[i])) return false;
  }
  return true;
}

Headers::Headers(std::initializer_list<Field> fields) : fields_(fields) {}

void Headers::set(std::string_view name, std::string_view value) {
  auto it =
      std::find_if(fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.first, name); });
  if (it == fields_.end()) {
    fields_.emplace_back(std::string(name), std::string(value));
    return;
  }
  it->second.assign(value.data(), value.size());
  fields_.erase(
      std::remove_if(std::next(it), fields_.end(), [&](const Field& f) { return iequals(f.first, name); }),
      fields_.end());
}

void Headers::add(std::string name, std::string value) {
  fields_.emplace_back(std::move(name), std::move(value));
}

std::size_t Headers::erase(std::string_view name) {
  auto before = fields_.size();
  fields_.erase(
      std::remove_if(fields_.begin(), fields_.end(), [&](const Field& f) { return iequals(f.first, name); }),
      fields_.end());
  return before - fields_.size();
}

const std::string* Headers::find(std::string_view name) const noexcept {
  for (const auto& f : fields_) {
    if (iequals(f.first, name)) return &f.second;
  }
  return nullptr;
}

std::string Headers::value_or_empty(std::string_view name) const {
  const std::string* v = find(name);
  return v ? *v : std::string();
}

}  // namespace gauth
