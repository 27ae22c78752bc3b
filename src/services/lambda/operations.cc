// Lambda's operation table: botocore's lambda/2015-03-31 paths onto LambdaBackend.
#include "services/lambda/service.h"

#include "services/lambda/errors.h"

namespace lathe::lambda {
using aws::RestInput;
using aws::RestOutput;
using nlohmann::json;

namespace {

Scope ScopeOf(const RestInput& in) { return Scope{in.context->caller.account, in.context->region}; }

std::string Query(const RestInput& in, const char* name) {
  auto it = in.query.find(name);
  return it == in.query.end() ? "" : it->second;
}

std::string Header(const RestInput& in, const char* name) {
  const std::string* h = in.request->header(name);
  return h ? *h : "";
}

Result<RestOutput> From(Result<json> r, int status = 200) {
  if (!r.ok()) return r.status();
  RestOutput out;
  out.status = status;
  out.body = std::move(*r);
  return out;
}

class LambdaService : public aws::RestJsonService {
 public:
  explicit LambdaService(LambdaBackend* b) {
    SetAccessRules(LambdaAccess);
    AddLambda("POST", "/2015-03-31/functions", "CreateFunction", [b](const RestInput& in) -> Result<RestOutput> {
      auto body = in.Json();
      if (!body.ok()) return body.status();
      return From(b->CreateFunction(ScopeOf(in), *body), 201);
    });
    AddLambda("GET", "/2015-03-31/functions", "ListFunctions", [b](const RestInput& in) {
      return From(b->ListFunctions(ScopeOf(in), Query(in, "Marker"), Query(in, "MaxItems")));
    });
    AddLambda("GET", "/2015-03-31/functions/{FunctionName}", "GetFunction", [b](const RestInput& in) {
      return From(b->GetFunction(ScopeOf(in), in.labels.at("FunctionName"), Query(in, "Qualifier")));
    });
    AddLambda("GET", "/2015-03-31/functions/{FunctionName}/configuration", "GetFunctionConfiguration", [b](const RestInput& in) {
      return From(b->GetFunctionConfiguration(ScopeOf(in), in.labels.at("FunctionName"), Query(in, "Qualifier")));
    });
    AddLambda("PUT", "/2015-03-31/functions/{FunctionName}/code", "UpdateFunctionCode",
        [b](const RestInput& in) -> Result<RestOutput> {
          auto body = in.Json();
          if (!body.ok()) return body.status();
          return From(b->UpdateFunctionCode(ScopeOf(in), in.labels.at("FunctionName"), *body));
        });
    AddLambda("PUT", "/2015-03-31/functions/{FunctionName}/configuration", "UpdateFunctionConfiguration",
        [b](const RestInput& in) -> Result<RestOutput> {
          auto body = in.Json();
          if (!body.ok()) return body.status();
          return From(b->UpdateFunctionConfiguration(ScopeOf(in), in.labels.at("FunctionName"), *body));
        });
    AddLambda("DELETE", "/2015-03-31/functions/{FunctionName}", "DeleteFunction", [b](const RestInput& in) -> Result<RestOutput> {
      Status s = b->DeleteFunction(ScopeOf(in), in.labels.at("FunctionName"), Query(in, "Qualifier"));
      if (!s.ok()) return s;
      RestOutput none;
      none.status = 204;
      none.raw_body = std::string();
      return none;
    });
    AddLambda("POST", "/2015-03-31/functions/{FunctionName}/invocations", "Invoke",
        [b](const RestInput& in) -> Result<RestOutput> {
          InvokeInput input;
          input.function_name = in.labels.at("FunctionName");
          input.qualifier = Query(in, "Qualifier");
          input.invocation_type = Header(in, "X-Amz-Invocation-Type");
          input.log_type = Header(in, "X-Amz-Log-Type");
          input.payload = std::string(in.body);
          Result<InvokeOutput> out = b->Invoke(ScopeOf(in), input);
          if (!out.ok()) return out.status();
          RestOutput r;
          r.status = out->status_code;
          r.raw_body = std::move(out->payload);
          r.headers.push_back({"X-Amz-Executed-Version", out->executed_version});
          if (!out->function_error.empty()) r.headers.push_back({"X-Amz-Function-Error", out->function_error});
          if (!out->log_result.empty()) r.headers.push_back({"X-Amz-Log-Result", out->log_result});
          return r;
        });
  }
  std::string_view signing_name() const override { return "lambda"; }

 protected:
  // Every answer's errors in Lambda's own codes (the base class renders them).
  void AddLambda(std::string method, std::string path, std::string name, aws::RestHandler handler) {
    Add(std::move(method), std::move(path), std::move(name), [handler = std::move(handler)](const RestInput& in) {
      Result<RestOutput> out = handler(in);
      if (!out.ok()) return Result<RestOutput>(AsLambdaError(out.status()));
      return out;
    });
  }

 public:
  // Code uploads carry a 50 MB zip in base64; Invoke a 6 MB payload; the rest is small. Invoke
  // takes 1 MB more than its payload limit so that the backend, not the gateway, refuses a
  // payload just over it, with Lambda's RequestTooLargeException.
  size_t BodyLimit(const http::Request& request) const override {
    const std::string path(request.path());
    if ((request.method == "POST" && path == "/2015-03-31/functions") ||
        (request.method == "PUT" && path.size() > 5 && path.compare(path.size() - 5, 5, "/code") == 0))
      return kMaxCodeRequestBytes;
    if (request.method == "POST" && path.size() > 12 && path.compare(path.size() - 12, 12, "/invocations") == 0)
      return kMaxSyncPayloadBytes + (1u << 20);
    return 1u << 20;
  }
};

}  // namespace

std::shared_ptr<aws::RestJsonService> NewLambdaService(LambdaBackend* backend) {
  return std::make_shared<LambdaService>(backend);
}

}  // namespace lathe::lambda
