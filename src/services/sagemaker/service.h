// SageMaker's Model Registry subset on lathe's endpoint (signing name "sagemaker", awsJson 1.1,
// X-Amz-Target "SageMaker.<Operation>", API version 2017-07-24), over lathe's model registry:
// a model package group is a registry group, a versioned model package a registry version.
//   CreateModelPackageGroup DescribeModelPackageGroup ListModelPackageGroups DeleteModelPackageGroup
//   CreateModelPackage DescribeModelPackage ListModelPackages UpdateModelPackage DeleteModelPackage
// Which model a package is: CustomerMetadataProperties["customModelArn"] when given, else the
// first container's ModelDataUrl, else its Image (docs/serve.md, "SageMaker Model Registry API").
#pragma once

#include <memory>

#include "aws/rest_json.h"
#include "services/registry/registry.h"

namespace lathe::sagemaker {

// What IAM must allow per operation (authz.cc).
aws::AccessRequest SageMakerAccess(const aws::OperationView& op);

// The operation table over `registry`, which outlives the service.
std::unique_ptr<aws::JsonTargetService> NewSageMakerService(registry::Registry* registry);

}  // namespace lathe::sagemaker
