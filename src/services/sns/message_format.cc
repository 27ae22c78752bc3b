#include "services/sns/message_format.h"

#include <ctime>

#include "core/arn.h"
#include "core/checksum.h"

namespace lathe::sns {
namespace {

using nlohmann::json;

std::string UrlEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
        c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x7f || c < 0x20) return false;
  return true;
}

// Header values never carry a line break (no header injection), whatever they came from.
std::string OneLine(std::string_view s) {
  std::string out;
  for (char c : s) out += (c == '\r' || c == '\n') ? ' ' : c;
  return out;
}

std::string EncodedWord(std::string_view s) {
  return IsAscii(s) ? OneLine(s) : "=?UTF-8?B?" + Base64Encode(s) + "?=";
}

std::string RfcDate(int64_t ms) {
  std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

}  // namespace

std::string SubscribeUrl(const std::string& base_url, const std::string& topic_arn, const std::string& token) {
  return base_url + "/?Action=ConfirmSubscription&TopicArn=" + UrlEncode(topic_arn) + "&Token=" + UrlEncode(token);
}

std::string UnsubscribeUrl(const std::string& base_url, const std::string& subscription_arn) {
  return base_url + "/?Action=Unsubscribe&SubscriptionArn=" + UrlEncode(subscription_arn);
}

std::string SigningCertUrl(const std::string& base_url, const SigningKey& key) {
  return base_url + "/" + key.certificate_file_name();
}

std::string CanonicalString(const json& e) {
  const std::string type = e.value("Type", "");
  std::vector<const char*> fields;
  if (type == "Notification") fields = {"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"};
  else fields = {"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"};
  std::string out;
  for (const char* f : fields) {
    if (!e.contains(f) || !e[f].is_string()) continue;  // Subject only when the message has one
    out += f;
    out += '\n';
    out += e[f].get<std::string>();
    out += '\n';
  }
  return out;
}

Result<json> BuildEnvelope(const EnvelopeInput& in, const SigningKey& key, int signature_version,
                           const std::string& base_url) {
  json e = json::object();
  e["Type"] = in.type;
  e["MessageId"] = in.message_id;
  if (in.type != "Notification") e["Token"] = in.token;
  e["TopicArn"] = in.topic_arn;
  if (in.type == "Notification" && !in.subject.empty()) e["Subject"] = in.subject;
  e["Message"] = in.message;
  if (in.type != "Notification") e["SubscribeURL"] = SubscribeUrl(base_url, in.topic_arn, in.token);
  e["Timestamp"] = Iso8601(in.timestamp_ms);
  e["SignatureVersion"] = std::to_string(signature_version);
  Result<std::string> signature = key.Sign(CanonicalString(e), signature_version);
  if (!signature.ok()) return signature.status();
  e["Signature"] = *signature;
  e["SigningCertURL"] = SigningCertUrl(base_url, key);
  if (in.type == "Notification") {
    e["UnsubscribeURL"] = UnsubscribeUrl(base_url, in.subscription_arn);
    if (!in.attributes.empty()) {
      json attrs = json::object();
      for (const auto& [name, a] : in.attributes) {
        const bool binary = a.data_type.rfind("Binary", 0) == 0;
        attrs[name] = {{"Type", a.data_type}, {"Value", binary ? Base64Encode(a.value) : a.value}};
      }
      e["MessageAttributes"] = attrs;
    }
  }
  return e;
}

HeaderList HttpHeaders(const std::string& type, const std::string& message_id, const std::string& topic_arn,
                       const std::string& subscription_arn, bool raw) {
  HeaderList h = {{"x-amz-sns-message-type", type},
                  {"x-amz-sns-message-id", message_id},
                  {"x-amz-sns-topic-arn", topic_arn}};
  if (type == "Notification") h.emplace_back("x-amz-sns-subscription-arn", subscription_arn);
  if (raw) h.emplace_back("x-amz-sns-rawdelivery", "true");
  h.emplace_back("Content-Type", "text/plain; charset=UTF-8");
  h.emplace_back("User-Agent", "Amazon Simple Notification Service Agent");
  return h;
}

std::string ConfirmationMessage(const std::string& topic_arn) {
  return "You have chosen to subscribe to the topic " + topic_arn +
         ".\nTo confirm the subscription, visit the SubscribeURL included in this message.";
}

std::string FormatEml(const Email& m) {
  std::string out;
  auto header = [&](const std::string& name, const std::string& value) { out += name + ": " + value + "\r\n"; };
  header("From", EncodedWord(m.from));
  header("To", OneLine(m.to));
  header("Subject", EncodedWord(m.subject));
  header("Date", RfcDate(m.date_ms));
  header("MIME-Version", "1.0");
  header("Content-Type", "text/plain; charset=UTF-8");
  header("Content-Transfer-Encoding", "8bit");
  for (const auto& [name, value] : m.extra_headers) header(name, OneLine(value));
  out += "\r\n";
  // CRLF line ends throughout, as SMTP carries them.
  for (size_t i = 0; i < m.body.size(); ++i) {
    if (m.body[i] == '\n' && (i == 0 || m.body[i - 1] != '\r')) out += '\r';
    out += m.body[i];
  }
  if (m.body.empty() || m.body.back() != '\n') out += "\r\n";
  return out;
}

}  // namespace lathe::sns
