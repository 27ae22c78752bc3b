// SageMaker's Model Registry operation table: X-Amz-Target "SageMaker.<Op>" -> handler. Each
// handler checks the wire against botocore's sagemaker model, maps it onto the registry and back;
// the registry owns numbering, lineage and history.
#include <algorithm>
#include <set>

#include "core/page_token.h"
#include "services/sagemaker/errors.h"
#include "services/sagemaker/names.h"
#include "services/sagemaker/service.h"

namespace lathe::sagemaker {
namespace {

using aws::RequestContext;
using nlohmann::json;
using registry::ModelGroup;
using registry::ModelVersion;
using registry::VersionStatus;

#define SM_ASSIGN(var, expr)                                       \
  auto var##_result = (expr);                                      \
  if (!var##_result.ok()) return FromRegistry(var##_result.status()); \
  auto& var = *var##_result

#define SM_RETURN_IF_ERROR(expr)                   \
  do {                                             \
    Status _s = (expr);                            \
    if (!_s.ok()) return FromRegistry(_s);         \
  } while (0)

// Keys lathe reads from CustomerMetadataProperties to fill the version's lineage.
constexpr const char* kCustomModelArnKey = "customModelArn";
constexpr const char* kBaseModelKey = "baseModel";
constexpr const char* kTrainingJobArnKey = "trainingJobArn";
// MetadataProperties are kept as metadata under this prefix (hidden from CustomerMetadataProperties;
// callers may not use it).
constexpr std::string_view kReservedPrefix = "lathe:";
constexpr const char* kMetadataPropertyNames[] = {"CommitId", "Repository", "GeneratedBy", "ProjectId"};
constexpr size_t kMaxListScan = 100000;  // versions (or groups) one List call looks at

bool IsEmptyValue(const json& v) {
  return v.is_null() || ((v.is_string() || v.is_object() || v.is_array()) && v.empty()) ||
         (v.is_boolean() && !v.get<bool>());
}

// A member lathe does not serve, given non-empty: refused, so no caller believes it took effect.
Status RefuseUnsupported(const json& in, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    auto it = in.find(name);
    if (it != in.end() && !IsEmptyValue(*it))
      return ValidationError(std::string("lathe does not support ") + name +
                             " (docs/compatibility.md lists the SageMaker members it serves).");
  }
  return Status::Ok();
}

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

Result<int64_t> OptTimeMs(const json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || it->is_null()) return int64_t{-1};
  if (!it->is_number()) return aws::WrongMemberType(name, "a timestamp (seconds since the epoch)");
  const double seconds = it->get<double>();
  if (!(seconds >= 0 && seconds < 1e11)) return ValidationError(std::string("Member ") + name + " is out of range.");
  return static_cast<int64_t>(seconds * 1000.0);
}

Result<std::string> Enum(const aws::JsonMembers& m, const char* name, std::initializer_list<const char*> allowed,
                         const char* fallback) {
  Result<std::optional<std::string>> v = m.OptString(name);
  if (!v.ok()) return v.status();
  if (!*v) return std::string(fallback);
  for (const char* a : allowed)
    if (**v == a) return **v;
  std::string set;
  for (const char* a : allowed) set += std::string(set.empty() ? "" : ", ") + a;
  std::string member = name;
  member[0] = static_cast<char>(member[0] - 'A' + 'a');
  return aws::ConstraintViolation(aws::Quoted(**v), member, "Member must satisfy enum value set: [" + set + "]");
}

Result<size_t> MaxResults(const aws::JsonMembers& m) {
  Result<std::optional<int64_t>> v = m.OptInt("MaxResults");
  if (!v.ok()) return v.status();
  if (!*v) return size_t{10};  // SageMaker's default page
  if (**v < 1 || **v > 100)
    return aws::ConstraintViolation(std::to_string(**v), "maxResults", "Member must have value between 1 and 100");
  return static_cast<size_t>(**v);
}

// The offset a NextToken holds; a token this list did not make is refused.
Result<size_t> OffsetFrom(const aws::JsonMembers& m, const std::string& list) {
  Result<std::string> token = m.String("NextToken");
  if (!token.ok()) return token.status();
  if (token->empty()) return size_t{0};
  LATHE_RETURN_IF_ERROR(aws::CheckLength(*token, "nextToken", 0, 8192));
  std::optional<std::string> pos = DecodePageToken(list, *token);
  if (!pos || pos->empty() || pos->size() > 9) return ValidationError("Invalid pagination token: not one this list returned.");
  size_t offset = 0;
  for (char c : *pos) {
    if (c < '0' || c > '9') return ValidationError("Invalid pagination token: not one this list returned.");
    offset = offset * 10 + static_cast<size_t>(c - '0');
  }
  return offset;
}

Result<std::map<std::string, std::string>> Tags(const json& in) {
  std::map<std::string, std::string> tags;
  auto it = in.find("Tags");
  if (it == in.end() || it->is_null()) return tags;
  if (!it->is_array()) return aws::WrongMemberType("Tags", "a list of Tag objects");
  if (it->size() > 50) return aws::ConstraintViolation("[Tag...]", "tags", "Member must have length less than or equal to 50");
  for (const json& t : *it) {
    if (!t.is_object()) return aws::WrongMemberType("Tags", "a list of Tag objects");
    aws::JsonMembers tm(t);
    Result<std::string> key = tm.Required("Key");
    if (!key.ok()) return key.status();
    Result<std::string> value = tm.Required("Value");
    if (!value.ok()) return value.status();
    LATHE_RETURN_IF_ERROR(aws::CheckLength(*key, "tags.member.key", 1, 128));
    LATHE_RETURN_IF_ERROR(aws::CheckLength(*value, "tags.member.value", 0, 256));
    tags[*key] = *value;
  }
  return tags;
}

// CustomerMetadataProperties: 1-50 entries, keys 1-128 bytes, values 0-256 (botocore's bounds).
Result<std::optional<std::map<std::string, std::string>>> CustomerMetadata(const json& in) {
  auto it = in.find("CustomerMetadataProperties");
  if (it == in.end() || it->is_null()) return std::optional<std::map<std::string, std::string>>();
  if (!it->is_object()) return aws::WrongMemberType("CustomerMetadataProperties", "a map of strings");
  if (it->empty() || it->size() > registry::kMaxMetadataEntries)
    return aws::ConstraintViolation("{...}", "customerMetadataProperties",
                                    "Member must have length between 1 and " +
                                        std::to_string(registry::kMaxMetadataEntries));
  std::map<std::string, std::string> out;
  for (auto& [key, value] : it->items()) {
    if (!value.is_string()) return aws::WrongMemberType("CustomerMetadataProperties." + aws::Quoted(key), "a string");
    LATHE_RETURN_IF_ERROR(aws::CheckLength(key, "customerMetadataProperties.key", 1, 128));
    LATHE_RETURN_IF_ERROR(aws::CheckLength(value.get<std::string>(), "customerMetadataProperties.value", 0, 256));
    if (std::string_view(key).substr(0, kReservedPrefix.size()) == kReservedPrefix)
      return ValidationError("CustomerMetadataProperties keys starting with \"lathe:\" are reserved by lathe.");
    out[key] = value.get<std::string>();
  }
  return std::optional<std::map<std::string, std::string>>(std::move(out));
}

json UserContext(const std::string& who) {
  if (who.rfind("arn:", 0) == 0) return json{{"IamIdentity", {{"Arn", who}}}};
  return json{{"UserProfileName", who}};
}

// Wire approval status: SageMaker has no Archived; an archived version is not deployable, so it
// reads as Rejected on the wire (lathe registry shows Archived).
const char* WireStatus(VersionStatus s) {
  return s == VersionStatus::kArchived ? "Rejected" : registry::VersionStatusName(s);
}

json GroupToWire(const ModelGroup& g, bool describe) {
  json out = {{"ModelPackageGroupName", g.name}, {"ModelPackageGroupArn", g.arn},
              {"CreationTime", Seconds(g.created_ms)}, {"ModelPackageGroupStatus", "Completed"}};
  if (!g.description.empty()) out["ModelPackageGroupDescription"] = g.description;
  if (describe) out["CreatedBy"] = UserContext(g.created_by);
  return out;
}

json VersionSummary(const ModelVersion& v) {
  json out = {{"ModelPackageName", v.group},           {"ModelPackageGroupName", v.group},
              {"ModelPackageVersion", v.version},      {"ModelPackageArn", v.arn},
              {"CreationTime", Seconds(v.created_ms)}, {"ModelPackageStatus", "Completed"},
              {"ModelApprovalStatus", WireStatus(v.status)}};
  if (!v.description.empty()) out["ModelPackageDescription"] = v.description;
  return out;
}

json VersionToWire(const ModelVersion& v) {
  json out = VersionSummary(v);
  out["ModelPackageStatusDetails"] = {{"ValidationStatuses", json::array()}, {"ImageScanStatuses", json::array()}};
  out["CertifyForMarketplace"] = false;
  out["ModelPackageRegistrationType"] = "Registered";
  out["CreatedBy"] = UserContext(v.created_by);
  if (v.last_modified_ms > 0) {
    out["LastModifiedTime"] = Seconds(v.last_modified_ms);
    out["LastModifiedBy"] = UserContext(v.last_modified_by);
  }
  if (!v.approval_description.empty()) out["ApprovalDescription"] = v.approval_description;
  if (!v.custom_model_arn.empty()) {
    const bool url = v.custom_model_arn.rfind("s3://", 0) == 0 || v.custom_model_arn.rfind("https://", 0) == 0;
    out["InferenceSpecification"] = {{"Containers", json::array({{{url ? "ModelDataUrl" : "Image", v.custom_model_arn}}})}};
  }
  json customer = json::object(), properties = json::object();
  for (const auto& [key, value] : v.metadata) {
    if (std::string_view(key).substr(0, kReservedPrefix.size()) == kReservedPrefix) {
      for (const char* name : kMetadataPropertyNames)
        if (key == std::string(kReservedPrefix) + name) properties[name] = value;
    } else {
      customer[key] = value;
    }
  }
  if (!customer.empty()) out["CustomerMetadataProperties"] = customer;
  if (!properties.empty()) out["MetadataProperties"] = properties;
  return out;
}

class SageMakerService : public aws::JsonTargetService {
 public:
  explicit SageMakerService(registry::Registry* r) : JsonTargetService(aws::Protocol::kAwsJson11, "SageMaker"), r_(r) {
    SetAccessRules(SageMakerAccess);
    Add("CreateModelPackageGroup", [this](auto& c, auto& in) { return CreateGroup(c, in); });
    Add("DescribeModelPackageGroup", [this](auto& c, auto& in) { return DescribeGroup(c, in); });
    Add("ListModelPackageGroups", [this](auto& c, auto& in) { return ListGroups(c, in); });
    Add("DeleteModelPackageGroup", [this](auto& c, auto& in) { return DeleteGroup(c, in); });
    Add("CreateModelPackage", [this](auto& c, auto& in) { return CreatePackage(c, in); });
    Add("DescribeModelPackage", [this](auto& c, auto& in) { return DescribePackage(c, in); });
    Add("ListModelPackages", [this](auto& c, auto& in) { return ListPackages(c, in); });
    Add("UpdateModelPackage", [this](auto& c, auto& in) { return UpdatePackage(c, in); });
    Add("DeleteModelPackage", [this](auto& c, auto& in) { return DeletePackage(c, in); });
  }
  std::string_view signing_name() const override { return "sagemaker"; }

 private:
  Result<json> CreateGroup(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_RETURN_IF_ERROR(RefuseUnsupported(in, {"ManagedConfiguration"}));
    SM_ASSIGN(name, m.Required("ModelPackageGroupName"));
    SM_RETURN_IF_ERROR(aws::CheckLength(name, "modelPackageGroupName", 1, 63));
    if (!IsEntityName(name))
      return aws::ConstraintViolation(aws::Quoted(name), "modelPackageGroupName",
                                      "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
    SM_ASSIGN(description, m.String("ModelPackageGroupDescription"));
    SM_RETURN_IF_ERROR(aws::CheckLength(description, "modelPackageGroupDescription", 0, registry::kMaxDescriptionBytes));
    SM_ASSIGN(tags, Tags(in));
    SM_ASSIGN(group, r_->CreateGroup(name, description, ctx.caller.arn, tags));
    return json{{"ModelPackageGroupArn", group.arn}};
  }

  Result<json> DescribeGroup(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_ASSIGN(ref, m.Required("ModelPackageGroupName"));
    SM_ASSIGN(name, GroupNameFrom(ref, ctx.caller.account, "modelPackageGroupName"));
    SM_ASSIGN(group, r_->GetGroup(name));
    return GroupToWire(group, /*describe=*/true);
  }

  Result<json> ListGroups(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_ASSIGN(after, OptTimeMs(in, "CreationTimeAfter"));
    SM_ASSIGN(before, OptTimeMs(in, "CreationTimeBefore"));
    SM_ASSIGN(limit, MaxResults(m));
    SM_ASSIGN(contains, m.String("NameContains"));
    SM_RETURN_IF_ERROR(aws::CheckLength(contains, "nameContains", 0, 63));
    SM_ASSIGN(sort_by, Enum(m, "SortBy", {"Name", "CreationTime"}, "CreationTime"));
    SM_ASSIGN(order, Enum(m, "SortOrder", {"Ascending", "Descending"}, "Ascending"));  // botocore: "The default is Ascending"
    SM_ASSIGN(cross, Enum(m, "CrossAccountFilterOption", {"SameAccount", "CrossAccount"}, "SameAccount"));
    const std::string list = "sagemaker:model-package-groups";
    SM_ASSIGN(offset, OffsetFrom(m, list));
    registry::ListOptions options;  // filtered and sorted here, as SageMaker defines them
    options.limit = kMaxListScan;
    SM_ASSIGN(groups, r_->ListGroups(options));
    std::vector<const ModelGroup*> matching;
    if (cross == "SameAccount")  // lathe serves one account: no group is shared from another
      for (const ModelGroup& g : groups)
        if (g.name.find(contains) != std::string::npos && (after < 0 || g.created_ms > after) &&
            (before < 0 || g.created_ms < before))
          matching.push_back(&g);
    std::stable_sort(matching.begin(), matching.end(), [&](const ModelGroup* a, const ModelGroup* b) {
      const bool less = sort_by == "Name" ? a->name < b->name
                                          : std::tie(a->created_ms, a->name) < std::tie(b->created_ms, b->name);
      const bool greater = sort_by == "Name" ? b->name < a->name
                                             : std::tie(b->created_ms, b->name) < std::tie(a->created_ms, a->name);
      return order == "Ascending" ? less : greater;
    });
    json out = {{"ModelPackageGroupSummaryList", json::array()}};
    for (size_t i = offset; i < matching.size() && i < offset + limit; ++i)
      out["ModelPackageGroupSummaryList"].push_back(GroupToWire(*matching[i], /*describe=*/false));
    if (offset + limit < matching.size()) out["NextToken"] = EncodePageToken(list, std::to_string(offset + limit));
    return out;
  }

  Result<json> DeleteGroup(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_ASSIGN(ref, m.Required("ModelPackageGroupName"));
    SM_ASSIGN(name, GroupNameFrom(ref, ctx.caller.account, "modelPackageGroupName"));
    SM_RETURN_IF_ERROR(r_->DeleteGroup(name));
    return json::object();
  }

  Result<json> CreatePackage(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_RETURN_IF_ERROR(RefuseUnsupported(
        in, {"ValidationSpecification", "SourceAlgorithmSpecification", "CertifyForMarketplace", "ModelMetrics",
             "DriftCheckBaselines", "AdditionalInferenceSpecifications", "SourceUri", "SecurityConfig", "ModelCard",
             "ModelLifeCycle", "ManagedStorageType"}));
    SM_ASSIGN(registration, Enum(m, "ModelPackageRegistrationType", {"Logged", "Registered"}, "Registered"));
    if (registration != "Registered") return ValidationError("lathe does not support ModelPackageRegistrationType Logged.");
    SM_ASSIGN(package_name, m.String("ModelPackageName"));
    if (!package_name.empty())
      return ValidationError("lathe does not support unversioned model packages (ModelPackageName); give "
                             "ModelPackageGroupName to register a version.");
    SM_ASSIGN(group_ref, m.OptString("ModelPackageGroupName"));
    if (!group_ref) return aws::MemberMustNotBeNull("ModelPackageGroupName");
    SM_ASSIGN(group, GroupNameFrom(*group_ref, ctx.caller.account, "modelPackageGroupName"));
    // SageMaker registers into an existing group only (the registry would make a missing one).
    SM_RETURN_IF_ERROR(r_->GetGroup(group).status());
    registry::NewVersion v;
    v.group = group;
    v.created_by = ctx.caller.arn;
    SM_ASSIGN(description, m.String("ModelPackageDescription"));
    SM_RETURN_IF_ERROR(aws::CheckLength(description, "modelPackageDescription", 0, registry::kMaxDescriptionBytes));
    v.description = description;
    SM_ASSIGN(status, Enum(m, "ModelApprovalStatus", {"Approved", "Rejected", "PendingManualApproval"},
                           "PendingManualApproval"));
    SM_ASSIGN(parsed_status, registry::ParseVersionStatus(status));
    v.status = parsed_status;
    SM_ASSIGN(token, m.String("ClientToken"));
    if (!token.empty()) {
      SM_RETURN_IF_ERROR(aws::CheckLength(token, "clientToken", 1, 36));
      for (char c : token)
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
          return aws::ConstraintViolation(aws::Quoted(token), "clientToken",
                                          "Member must satisfy regular expression pattern: [a-zA-Z0-9-]+");
    }
    v.client_token = token;
    SM_ASSIGN(tags, Tags(in));
    v.tags = tags;
    SM_ASSIGN(customer, CustomerMetadata(in));
    if (customer) v.metadata = *customer;
    SM_RETURN_IF_ERROR(ReadMetadataProperties(in, &v.metadata));
    SM_ASSIGN(container_model, FirstContainerModel(in));
    auto get = [&](const char* key) {
      auto it = v.metadata.find(key);
      return it == v.metadata.end() ? std::string() : it->second;
    };
    v.custom_model_arn = get(kCustomModelArnKey).empty() ? container_model : get(kCustomModelArnKey);
    v.base_model = get(kBaseModelKey);
    v.training_job_arn = get(kTrainingJobArnKey);
    SM_ASSIGN(version, r_->Register(v));
    return json{{"ModelPackageArn", version.arn}};
  }

  // MetadataProperties -> "lathe:<Name>" metadata entries (each 0-1024 bytes, botocore's bound).
  static Status ReadMetadataProperties(const json& in, std::map<std::string, std::string>* metadata) {
    auto it = in.find("MetadataProperties");
    if (it == in.end() || it->is_null()) return Status::Ok();
    if (!it->is_object()) return aws::WrongMemberType("MetadataProperties", "a MetadataProperties object");
    aws::JsonMembers pm(*it);
    for (const char* name : kMetadataPropertyNames) {
      Result<std::string> value = pm.String(name);
      if (!value.ok()) return value.status();
      LATHE_RETURN_IF_ERROR(aws::CheckLength(*value, std::string("metadataProperties.") + name, 0, 1024));
      if (!value->empty()) (*metadata)[std::string(kReservedPrefix) + name] = *value;
    }
    return Status::Ok();
  }

  // The first container's ModelDataUrl, else its Image ("" without InferenceSpecification).
  static Result<std::string> FirstContainerModel(const json& in) {
    auto it = in.find("InferenceSpecification");
    if (it == in.end() || it->is_null()) return std::string();
    if (!it->is_object()) return aws::WrongMemberType("InferenceSpecification", "an InferenceSpecification object");
    auto containers = it->find("Containers");
    if (containers == it->end() || containers->is_null()) return aws::MemberMustNotBeNull("inferenceSpecification.containers");
    if (!containers->is_array()) return aws::WrongMemberType("InferenceSpecification.Containers", "a list");
    if (containers->empty() || containers->size() > 15)
      return aws::ConstraintViolation("[...]", "inferenceSpecification.containers", "Member must have length between 1 and 15");
    std::string model;
    for (const json& c : *containers) {
      if (!c.is_object()) return aws::WrongMemberType("InferenceSpecification.Containers", "a list of containers");
      aws::JsonMembers cm(c);
      Result<std::string> url = cm.String("ModelDataUrl");
      if (!url.ok()) return url.status();
      LATHE_RETURN_IF_ERROR(aws::CheckLength(*url, "inferenceSpecification.containers.member.modelDataUrl", 0, 1024));
      Result<std::string> image = cm.String("Image");
      if (!image.ok()) return image.status();
      LATHE_RETURN_IF_ERROR(aws::CheckLength(*image, "inferenceSpecification.containers.member.image", 0, 255));
      if (model.empty()) model = url->empty() ? *image : *url;
    }
    return model;
  }

  Result<json> DescribePackage(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_ASSIGN(name, m.Required("ModelPackageName"));
    SM_ASSIGN(ref, VersionRefFrom(name, ctx.caller.account, "modelPackageName"));
    SM_ASSIGN(version, r_->GetVersion(ref.group, ref.version));
    return VersionToWire(version);
  }

  Result<json> ListPackages(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_ASSIGN(after, OptTimeMs(in, "CreationTimeAfter"));
    SM_ASSIGN(before, OptTimeMs(in, "CreationTimeBefore"));
    SM_ASSIGN(limit, MaxResults(m));
    SM_ASSIGN(contains, m.String("NameContains"));
    SM_RETURN_IF_ERROR(aws::CheckLength(contains, "nameContains", 0, 63));
    SM_ASSIGN(status, Enum(m, "ModelApprovalStatus", {"Approved", "Rejected", "PendingManualApproval"}, ""));
    SM_ASSIGN(type, Enum(m, "ModelPackageType", {"Versioned", "Unversioned", "Both"}, ""));
    SM_ASSIGN(sort_by, Enum(m, "SortBy", {"Name", "CreationTime"}, "CreationTime"));
    SM_ASSIGN(order, Enum(m, "SortOrder", {"Ascending", "Descending"}, "Ascending"));  // botocore: "The default is Ascending"
    SM_ASSIGN(group_ref, m.OptString("ModelPackageGroupName"));
    const std::string list = "sagemaker:model-packages";
    SM_ASSIGN(offset, OffsetFrom(m, list));
    std::vector<std::string> groups;
    if (group_ref) {
      SM_ASSIGN(name, GroupNameFrom(*group_ref, ctx.caller.account, "modelPackageGroupName"));
      SM_RETURN_IF_ERROR(r_->GetGroup(name).status());
      // One group: its versions' store order (creation time, then number) is both SortBy orders,
      // so filter, order and page happen in the store and only one page is read. "Rejected" on
      // the wire also means Archived, which one store status cannot say: that filter scans below.
      if (status != "Rejected") {
        registry::ListOptions options;
        if (!status.empty()) {
          SM_ASSIGN(parsed, registry::ParseVersionStatus(status));
          options.status = parsed;
        }
        options.created_after = after;
        options.created_before = before;
        options.descending = order == "Descending";
        options.offset = offset;
        options.limit = limit + 1;  // one more: is there a next page?
        std::vector<ModelVersion> page;
        if (name.find(contains) != std::string::npos) {
          SM_ASSIGN(versions, r_->ListVersions(name, options));
          page = std::move(versions);
        }
        json out = {{"ModelPackageSummaryList", json::array()}};
        for (size_t i = 0; i < page.size() && i < limit; ++i)
          out["ModelPackageSummaryList"].push_back(VersionSummary(page[i]));
        if (page.size() > limit) out["NextToken"] = EncodePageToken(list, std::to_string(offset + limit));
        return out;
      }
      groups.push_back(name);
    } else if (type == "Versioned" || type == "Both") {
      // Without a group SageMaker lists unversioned packages by default, which lathe has none of.
      registry::ListOptions all;
      all.limit = kMaxListScan;
      SM_ASSIGN(all_groups, r_->ListGroups(all));
      for (const ModelGroup& g : all_groups) groups.push_back(g.name);
    }
    std::vector<ModelVersion> matching;
    for (const std::string& g : groups) {
      registry::ListOptions options;  // filtered and sorted here, as SageMaker defines them
      options.limit = kMaxListScan;
      SM_ASSIGN(versions, r_->ListVersions(g, options));
      for (ModelVersion& v : versions) {
        if (v.group.find(contains) == std::string::npos) continue;
        if (!status.empty() && status != WireStatus(v.status)) continue;
        if ((after >= 0 && v.created_ms <= after) || (before >= 0 && v.created_ms >= before)) continue;
        matching.push_back(std::move(v));
        if (matching.size() >= kMaxListScan) break;
      }
    }
    std::stable_sort(matching.begin(), matching.end(), [&](const ModelVersion& a, const ModelVersion& b) {
      auto key = [&](const ModelVersion& v) {
        return sort_by == "Name" ? std::make_tuple(v.group, int64_t{0}, v.version)
                                 : std::make_tuple(std::string(), v.created_ms, v.version);
      };
      return order == "Ascending" ? key(a) < key(b) : key(b) < key(a);
    });
    json out = {{"ModelPackageSummaryList", json::array()}};
    for (size_t i = offset; i < matching.size() && i < offset + limit; ++i)
      out["ModelPackageSummaryList"].push_back(VersionSummary(matching[i]));
    if (offset + limit < matching.size()) out["NextToken"] = EncodePageToken(list, std::to_string(offset + limit));
    return out;
  }

  Result<json> UpdatePackage(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_RETURN_IF_ERROR(RefuseUnsupported(in, {"AdditionalInferenceSpecificationsToAdd", "InferenceSpecification",
                                              "SourceUri", "ModelCard", "ModelLifeCycle"}));
    SM_ASSIGN(registration, Enum(m, "ModelPackageRegistrationType", {"Logged", "Registered"}, "Registered"));
    if (registration != "Registered") return ValidationError("lathe does not support ModelPackageRegistrationType Logged.");
    SM_ASSIGN(arn, m.Required("ModelPackageArn"));
    SM_RETURN_IF_ERROR(aws::CheckLength(arn, "modelPackageArn", 1, 2048));
    SM_ASSIGN(ref, VersionRefFrom(arn, ctx.caller.account, "modelPackageArn"));
    SM_ASSIGN(status_name, Enum(m, "ModelApprovalStatus", {"Approved", "Rejected", "PendingManualApproval"}, ""));
    std::optional<VersionStatus> status;
    if (!status_name.empty()) {
      SM_ASSIGN(parsed, registry::ParseVersionStatus(status_name));
      status = parsed;
    }
    SM_ASSIGN(approval, m.String("ApprovalDescription"));
    SM_RETURN_IF_ERROR(aws::CheckLength(approval, "approvalDescription", 0, 1024));
    SM_ASSIGN(customer, CustomerMetadata(in));
    SM_ASSIGN(remove, m.Strings("CustomerMetadataPropertiesToRemove", registry::kMaxMetadataEntries));
    for (const std::string& key : remove) {
      SM_RETURN_IF_ERROR(aws::CheckLength(key, "customerMetadataPropertiesToRemove.member", 1, 128));
      if (std::string_view(key).substr(0, kReservedPrefix.size()) == kReservedPrefix)
        return ValidationError("CustomerMetadataProperties keys starting with \"lathe:\" are reserved by lathe.");
    }
    SM_ASSIGN(version, r_->UpdateVersion(ref.group + "/" + std::to_string(ref.version), status, approval,
                                         customer.value_or(std::map<std::string, std::string>{}), remove,
                                         ctx.caller.arn));
    return json{{"ModelPackageArn", version.arn}};
  }

  Result<json> DeletePackage(const RequestContext& ctx, const json& in) {
    aws::JsonMembers m(in);
    SM_ASSIGN(name, m.Required("ModelPackageName"));
    SM_ASSIGN(ref, VersionRefFrom(name, ctx.caller.account, "modelPackageName"));
    SM_RETURN_IF_ERROR(r_->DeleteVersion(ref.group + "/" + std::to_string(ref.version)));
    return json::object();
  }

  registry::Registry* r_;
};

}  // namespace

std::unique_ptr<aws::JsonTargetService> NewSageMakerService(registry::Registry* registry) {
  return std::make_unique<SageMakerService>(registry);
}

}  // namespace lathe::sagemaker
