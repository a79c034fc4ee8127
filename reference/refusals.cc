#include "reference/refusals.h"

#include <algorithm>
#include <cctype>
#include <string>

namespace normcheck::reference {

Status refuse(const Refusal& r, const Problem& p) {
  std::string message(r.message);
  if (r.with_shape) message += bracketed(p.shape);
  return Status::refusal(std::move(message));
}

bool contains_key_phrase(std::string_view message, std::string_view key) {
  const auto same = [](char a, char b) {
    return std::tolower(static_cast<unsigned char>(a)) == std::tolower(static_cast<unsigned char>(b));
  };
  return std::search(message.begin(), message.end(), key.begin(), key.end(), same) != message.end();
}

const Refusal* refusal_named_in(std::string_view message) {
  for (const Refusal* r : kRefusals)
    if (contains_key_phrase(message, r->key)) return r;
  return nullptr;
}

}  // namespace normcheck::reference
