#include "services/s3/notifications.h"

#include <algorithm>

#include "aws/xml.h"
#include "core/arn.h"
#include "services/s3/errors.h"
#include "services/s3/shapes.h"

namespace lathe::s3 {
namespace {

constexpr size_t kMaxXmlBytes = 64 << 10;
constexpr size_t kMaxXmlDepth = 7;  // NotificationConfiguration > Topic... > Filter > S3Key > FilterRule > Name
constexpr size_t kMaxEventsPerTarget = 32;
constexpr size_t kMaxFilterValueBytes = 1024;

// botocore's s3 "Event" enum.
constexpr std::string_view kEventNames[] = {
    "s3:ReducedRedundancyLostObject", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:Replication:*",
    "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold", "s3:Replication:OperationReplicatedAfterThreshold",
    "s3:ObjectRestore:Delete", "s3:LifecycleTransition", "s3:IntelligentTiering", "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete", "s3:LifecycleExpiration:DeleteMarkerCreated",
    "s3:ObjectTagging:*", "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete"};

struct KindInfo {
  NotificationTarget::Kind kind;
  const char* element;      // the configuration's element
  const char* arn_element;  // its ARN member's element
  const char* service;      // the ARN's service
};
constexpr KindInfo kKinds[] = {
    {NotificationTarget::Kind::kTopic, "TopicConfiguration", "Topic", "sns"},
    {NotificationTarget::Kind::kQueue, "QueueConfiguration", "Queue", "sqs"},
    {NotificationTarget::Kind::kFunction, "CloudFunctionConfiguration", "CloudFunction", "lambda"},
};
const KindInfo& InfoOf(NotificationTarget::Kind kind) {
  for (const KindInfo& k : kKinds)
    if (k.kind == kind) return k;
  return kKinds[0];
}

bool KnownEvent(std::string_view name) {
  return std::find(std::begin(kEventNames), std::end(kEventNames), name) != std::end(kEventNames);
}

// "s3:ObjectCreated:*" covers "s3:ObjectCreated:Put"; a name covers itself.
bool Covers(std::string_view pattern, std::string_view event) {
  if (pattern == event) return true;
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == ":*")
    return event.substr(0, pattern.size() - 1) == pattern.substr(0, pattern.size() - 1);
  return false;
}

bool EventsOverlap(const NotificationTarget& a, const NotificationTarget& b) {
  for (const std::string& x : a.events)
    for (const std::string& y : b.events)
      if (Covers(x, y) || Covers(y, x)) return true;
  return false;
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }
bool EndsWith(std::string_view s, std::string_view p) {
  return s.size() >= p.size() && s.substr(s.size() - p.size()) == p;
}

// Some key could match both filters.
bool FiltersOverlap(const NotificationTarget& a, const NotificationTarget& b) {
  bool prefixes = StartsWith(a.prefix, b.prefix) || StartsWith(b.prefix, a.prefix);
  bool suffixes = EndsWith(a.suffix, b.suffix) || EndsWith(b.suffix, a.suffix);
  return prefixes && suffixes;
}

// arn:aws:<service>:<region>:<12 digits>:<name>[...]
bool ArnOf(std::string_view arn, std::string_view service) {
  if (arn.size() > 2048) return false;
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (int i = 0; i < 5; ++i) {
    size_t colon = arn.find(':', start);
    if (colon == std::string_view::npos) return false;
    parts.push_back(arn.substr(start, colon - start));
    start = colon + 1;
  }
  std::string_view rest = arn.substr(start);
  if (parts[0] != "arn" || parts[1].substr(0, 3) != "aws" || parts[2] != service || parts[3].empty() ||
      rest.empty())
    return false;
  if (parts[4].size() != 12 || !std::all_of(parts[4].begin(), parts[4].end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  if (service == "lambda") return StartsWith(rest, "function:") && rest.size() > 9;
  return true;
}

Status ParseFilter(pugi::xml_node filter, NotificationTarget* target) {
  bool have_prefix = false, have_suffix = false;
  for (pugi::xml_node key : filter.children()) {
    if (key.type() != pugi::node_element) continue;
    if (std::string_view(key.name()) != "S3Key") return MalformedXmlSchema("Filter has no member " + aws::Printable(key.name(), 64));
    for (pugi::xml_node rule : key.children()) {
      if (rule.type() != pugi::node_element) continue;
      if (std::string_view(rule.name()) != "FilterRule")
        return MalformedXmlSchema("S3Key has no member " + aws::Printable(rule.name(), 64));
      std::string name(TrimXmlSpace(rule.child("Name").text().get()));
      std::string value = rule.child("Value").text().get();
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (value.size() > kMaxFilterValueBytes)
        return InvalidArgument("A filter rule value is longer than 1024 bytes");
      if (name == "prefix" && !have_prefix) {
        target->prefix = value;
        have_prefix = true;
      } else if (name == "suffix" && !have_suffix) {
        target->suffix = value;
        have_suffix = true;
      } else {
        return InvalidArgument("FilterRule names must be prefix or suffix, each at most once, not " +
                               aws::Printable(name, 64));
      }
    }
  }
  return Status::Ok();
}

Result<NotificationTarget> ParseTarget(pugi::xml_node node, const KindInfo& info) {
  NotificationTarget target;
  target.kind = info.kind;
  for (pugi::xml_node child : node.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (name == "Id") {
      target.id = TrimXmlSpace(child.text().get());
      if (target.id.size() > kMaxNotificationIdBytes) return InvalidArgument("A notification Id is longer than 255 bytes");
    } else if (name == info.arn_element) {
      target.arn = TrimXmlSpace(child.text().get());
    } else if (name == "Event") {
      std::string event(TrimXmlSpace(child.text().get()));
      if (!KnownEvent(event)) return InvalidArgument("The event is not supported for notifications: " + aws::Printable(event, 80));
      if (target.events.size() == kMaxEventsPerTarget) return InvalidArgument("Too many events in one configuration");
      target.events.push_back(event);
    } else if (name == "Filter") {
      LATHE_RETURN_IF_ERROR(ParseFilter(child, &target));
    } else {
      return MalformedXmlSchema(std::string(info.element) + " has no member " + aws::Printable(name, 64));
    }
  }
  if (target.arn.empty() || target.events.empty())
    return MalformedXmlSchema(std::string(info.element) + " needs " + info.arn_element + " and at least one Event");
  if (!ArnOf(target.arn, info.service))
    return InvalidArgument("Unable to validate the following destination configurations: " +
                           aws::Printable(target.arn, 256) + " is not an " + info.service + " ARN");
  if (target.id.empty()) target.id = NewResourceId(32);  // AWS makes one up too
  return target;
}

}  // namespace

Result<NotificationConfiguration> ParseNotificationConfiguration(std::string_view body) {
  pugi::xml_document doc;
  LATHE_RETURN_IF_ERROR(aws::ParseXmlBounded(body, kMaxXmlBytes, kMaxXmlDepth, &doc));
  pugi::xml_node root = doc.document_element();
  if (std::string_view(root.name()) != "NotificationConfiguration")
    return MalformedXmlSchema("the root element must be NotificationConfiguration, not " + aws::Printable(root.name(), 64));
  NotificationConfiguration config;
  for (pugi::xml_node child : root.children()) {
    if (child.type() != pugi::node_element) continue;
    const std::string_view name = child.name();
    if (name == "EventBridgeConfiguration") {
      config.eventbridge = true;
      continue;
    }
    const KindInfo* info = nullptr;
    for (const KindInfo& k : kKinds)
      if (name == k.element) info = &k;
    if (!info) return MalformedXmlSchema("NotificationConfiguration has no member " + aws::Printable(name, 64));
    if (config.targets.size() == kMaxNotificationConfigurations)
      return InvalidArgument("A bucket has at most " + std::to_string(kMaxNotificationConfigurations) +
                             " notification configurations");
    Result<NotificationTarget> target = ParseTarget(child, *info);
    if (!target.ok()) return target.status();
    config.targets.push_back(std::move(*target));
  }
  for (size_t i = 0; i < config.targets.size(); ++i)
    for (size_t j = i + 1; j < config.targets.size(); ++j) {
      if (config.targets[i].id == config.targets[j].id)
        return InvalidArgument("Two notification configurations have the same Id: " +
                               aws::Printable(config.targets[i].id, 255));
      if (EventsOverlap(config.targets[i], config.targets[j]) && FiltersOverlap(config.targets[i], config.targets[j]))
        return InvalidArgument(
            "Configurations overlap. Configurations on the same bucket cannot share a common event type.");
    }
  return config;
}

aws::RestXmlOutput NotificationConfigurationXml(const NotificationConfiguration& config) {
  pugi::xml_document doc;
  pugi::xml_node root = aws::AppendS3Root(&doc, "NotificationConfiguration");
  for (const NotificationTarget& t : config.targets) {
    const KindInfo& info = InfoOf(t.kind);
    pugi::xml_node node = root.append_child(info.element);
    aws::AppendTextElement(node, "Id", t.id);
    aws::AppendTextElement(node, info.arn_element, t.arn);
    for (const std::string& e : t.events) aws::AppendTextElement(node, "Event", e);
    if (!t.prefix.empty() || !t.suffix.empty()) {
      pugi::xml_node key = node.append_child("Filter").append_child("S3Key");
      for (auto [name, value] : {std::pair<const char*, const std::string*>{"prefix", &t.prefix}, {"suffix", &t.suffix}}) {
        if (value->empty()) continue;
        pugi::xml_node rule = key.append_child("FilterRule");
        aws::AppendTextElement(rule, "Name", name);
        aws::AppendTextElement(rule, "Value", *value);
      }
    }
  }
  if (config.eventbridge) root.append_child("EventBridgeConfiguration");
  return aws::XmlOutput(doc);
}

nlohmann::json NotificationConfigurationToJson(const NotificationConfiguration& config) {
  nlohmann::json targets = nlohmann::json::array();
  for (const NotificationTarget& t : config.targets)
    targets.push_back({{"kind", InfoOf(t.kind).service}, {"id", t.id}, {"arn", t.arn}, {"events", t.events},
                       {"prefix", t.prefix}, {"suffix", t.suffix}});
  return {{"eventbridge", config.eventbridge}, {"targets", targets}};
}

NotificationConfiguration NotificationConfigurationFromJson(const nlohmann::json& doc) {
  NotificationConfiguration config;
  if (!doc.is_object()) return config;
  config.eventbridge = doc.value("eventbridge", false);
  for (const nlohmann::json& t : doc.value("targets", nlohmann::json::array())) {
    NotificationTarget target;
    const std::string service = t.value("kind", "sns");
    for (const KindInfo& k : kKinds)
      if (service == k.service) target.kind = k.kind;
    target.id = t.value("id", "");
    target.arn = t.value("arn", "");
    target.events = t.value("events", std::vector<std::string>{});
    target.prefix = t.value("prefix", "");
    target.suffix = t.value("suffix", "");
    config.targets.push_back(std::move(target));
  }
  return config;
}

std::vector<const NotificationTarget*> MatchingTargets(const NotificationConfiguration& config,
                                                       std::string_view event_name, std::string_view key) {
  std::vector<const NotificationTarget*> out;
  for (const NotificationTarget& t : config.targets) {
    if (!StartsWith(key, t.prefix) || !EndsWith(key, t.suffix)) continue;
    for (const std::string& e : t.events)
      if (Covers(e, event_name)) {
        out.push_back(&t);
        break;
      }
  }
  return out;
}

}  // namespace lathe::s3
