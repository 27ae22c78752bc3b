#include "http/message.h"

#include <algorithm>

namespace lathe::http {

bool HeaderNameEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    unsigned char x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (x >= 'A' && x <= 'Z') x = static_cast<unsigned char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<unsigned char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

static const std::string* FindHeader(const std::vector<Header>& headers, std::string_view name) {
  for (const Header& h : headers) {
    if (HeaderNameEquals(h.name, name)) return &h.value;
  }
  return nullptr;
}

std::string_view Request::path() const {
  std::string_view t = target;
  size_t q = t.find('?');
  return q == std::string_view::npos ? t : t.substr(0, q);
}

std::string_view Request::query() const {
  std::string_view t = target;
  size_t q = t.find('?');
  return q == std::string_view::npos ? std::string_view() : t.substr(q + 1);
}

const std::string* Request::header(std::string_view name) const { return FindHeader(headers, name); }

void Response::set_header(std::string name, std::string value) {
  for (Header& h : headers) {
    if (HeaderNameEquals(h.name, name)) {
      h.name = std::move(name);
      h.value = std::move(value);
      return;
    }
  }
  headers.push_back({std::move(name), std::move(value)});
}

const std::string* Response::header(std::string_view name) const { return FindHeader(headers, name); }

Result<size_t> StringBodyReader::Read(char* buf, size_t n) {
  size_t take = std::min(n, body_.size() - pos_);
  std::copy_n(body_.data() + pos_, take, buf);
  pos_ += take;
  return take;
}

Result<std::string> ReadBody(BodyReader* reader, size_t max_bytes) {
  auto too_large = [max_bytes] {
    return Status::QuotaExceeded("request body is larger than the limit of " +
                                 std::to_string(max_bytes) + " bytes");
  };
  const int64_t declared = reader->declared_length();
  // A declared length over the limit is refused before a byte is read (and before any
  // "100 Continue" invites the client to send it).
  if (declared >= 0 && static_cast<uint64_t>(declared) > max_bytes) return too_large();
  std::string body;
  if (declared > 0) body.reserve(static_cast<size_t>(declared));
  char buf[16384];
  while (true) {
    // Never ask for more than one byte past the limit: that byte is enough to know it is over.
    size_t want = std::min(sizeof(buf), max_bytes + 1 - body.size());
    Result<size_t> n = reader->Read(buf, want);
    if (!n.ok()) return n.status();
    if (*n == 0) return body;
    body.append(buf, *n);
    if (body.size() > max_bytes) return too_large();
  }
}

}  // namespace lathe::http
