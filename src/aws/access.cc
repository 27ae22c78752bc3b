#include "aws/access.h"

#include "aws/query_protocol.h"
#include "aws/rest_json.h"

namespace lathe::aws {

AccessRequest Require(std::string action, std::vector<std::string> resources, AccessContext context) {
  if (resources.empty()) resources.push_back("*");
  AccessRequest r;
  r.action = action;
  r.resources = resources;
  r.checks.push_back({std::move(action), std::move(resources), std::move(context)});
  return r;
}

AccessCheck PassRole(const std::string& role_arn, std::string_view passed_to_service) {
  return {"iam:PassRole", {role_arn}, {{"iam:passedtoservice", {std::string(passed_to_service)}}}};
}

void AddRequestTags(const std::vector<std::pair<std::string, std::string>>& tags, AccessContext* context) {
  if (tags.empty()) return;
  std::vector<std::string>& keys = (*context)["aws:tagkeys"];
  for (const auto& [key, value] : tags) {
    std::string lower = key;
    for (char& c : lower)
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    (*context)["aws:requesttag/" + lower] = {value};
    keys.push_back(key);
  }
}

namespace {
std::string Find(const std::map<std::string, std::string>* map, std::string_view name) {
  if (!map) return "";
  auto it = map->find(std::string(name));
  return it == map->end() ? "" : it->second;
}
}  // namespace

std::string OperationView::Label(std::string_view name) const { return Find(labels, name); }
std::string OperationView::Query(std::string_view name) const { return Find(query, name); }
std::string OperationView::Param(std::string_view name) const {
  if (!params) return "";
  const std::string* v = params->Get(name);
  return v ? *v : "";
}

std::string OperationView::BodyMember(std::string_view name) const {
  Result<nlohmann::json> doc = ParseJsonObjectBody(body);
  if (!doc.ok()) return "";
  auto it = doc->find(std::string(name));
  return it != doc->end() && it->is_string() ? it->get<std::string>() : "";
}

AccessRequest OperationView::Default() const { return Require(std::string(service) + ":" + std::string(operation)); }

}  // namespace lathe::aws
