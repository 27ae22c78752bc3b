// A fresh IAM with one user, "ci", whose key signs the requests: what the enforcement tests
// decide against (iam_enforcement_test.cc, iam_deny_escape_test.cc).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "aws/service.h"
#include "services/iam/backend.h"
#include "services/iam/enforcement.h"
#include "test_util.h"

namespace lathe::iam {

class IamUserTest : public ::testing::Test {
 protected:
  static constexpr char kUserAccount[] = "123456789012";

  void SetUp() override {
    auto store = store::MetadataStore::Open(dir_.path() + "/lathe.db");
    ASSERT_TRUE(store.ok());
    store_ = std::move(*store);
    iam_ = std::make_unique<IamBackend>(store_.get());
    CreateUserInput in;
    in.name = "ci";
    Result<User> u = iam_->CreateUser(kUserAccount, in);
    ASSERT_TRUE(u.ok()) << u.status().ToString();
    user_arn_ = u->arn;
    ctx_.region = "us-east-1";
    ctx_.caller = aws::Caller{"AKIAEXAMPLE", kUserAccount, user_arn_, u->id};
  }
  // The user's decision on `access`: nullopt when allowed, the refusal otherwise.
  std::optional<std::string> Authorize(const aws::AccessRequest& access) {
    Enforcer enforcer(iam_.get());
    return enforcer.Authorize(ctx_, "127.0.0.1", access);
  }
  // A rest-protocol request of the user's, for a service's declaration (labels and query outlive it).
  aws::OperationView View(std::string_view operation, const std::map<std::string, std::string>& labels,
                          const std::map<std::string, std::string>& query, std::string_view body) {
    aws::OperationView v;
    v.context = &ctx_;
    v.request = &request_;
    v.operation = operation;
    v.labels = &labels;
    v.query = &query;
    v.body = body;
    return v;
  }

  lathe::testing::TempDir dir_;
  std::unique_ptr<store::MetadataStore> store_;
  std::unique_ptr<IamBackend> iam_;
  std::string user_arn_;
  aws::RequestContext ctx_;
  http::Request request_;
};

}  // namespace lathe::iam
