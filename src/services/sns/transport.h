// How the delivery worker reaches the world: an HTTP POST to a subscriber, a mail through an SMTP
// relay. CurlTransport does both with libcurl and hard timeouts; tests substitute their own.
#pragma once

#include <string>

#include "core/status.h"
#include "services/sns/message_format.h"

namespace lathe::sns {

// `smtpRelay` in the server config (docs/serve.md): never required; without it email goes to
// the outbox folder only.
struct SmtpRelay {
  std::string url;   // smtp://host:port or smtps://host:port
  std::string from;  // the envelope and header sender
  std::string username, password;
  bool configured() const { return !url.empty(); }
};

class DeliveryTransport {
 public:
  virtual ~DeliveryTransport() = default;
  // OK for a 2xx answer; an error naming the status or the network failure otherwise.
  virtual Status PostHttp(const std::string& url, const HeaderList& headers, const std::string& body) = 0;
  virtual Status SendMail(const SmtpRelay& relay, const std::string& to, const std::string& eml) = 0;
};

class CurlTransport : public DeliveryTransport {
 public:
  Status PostHttp(const std::string& url, const HeaderList& headers, const std::string& body) override;
  Status SendMail(const SmtpRelay& relay, const std::string& to, const std::string& eml) override;
};

}  // namespace lathe::sns
