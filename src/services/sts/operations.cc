// STS's operation table. GetCallerIdentity has no input; its output is the three members below.
#include "aws/xml.h"
#include "services/sts/backend.h"
#include "services/sts/service.h"

namespace lathe::sts {
namespace {

class StsService : public aws::QueryService {
 public:
  StsService() : QueryService("sts", "2011-06-15", std::string(aws::QueryXmlNamespace("sts"))) {
    SetAccessRules(StsAccess);
    Register("GetCallerIdentity", [](const aws::RequestContext& ctx, const aws::QueryParams&, pugi::xml_node result) {
      CallerIdentity id = Identify(ctx.caller);
      aws::AppendTextElement(result, "UserId", id.user_id);
      aws::AppendTextElement(result, "Account", id.account);
      aws::AppendTextElement(result, "Arn", id.arn);
      return Status::Ok();
    });
  }
};

}  // namespace

std::unique_ptr<aws::QueryService> NewStsService() { return std::make_unique<StsService>(); }

}  // namespace lathe::sts
