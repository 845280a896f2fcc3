#!/usr/bin/env bash
# Plan: 3 policies, 10 groups to create; 17 memberships; 44 detachments, 9 inline deletions.
# Account 111122223333. Additive steps first; the removals at the end run only if
# everything before them succeeded. Review it before running it: a script
# keeps no backup; save the account first with `iamgroups snapshot`.
set -euo pipefail

actual=$(aws sts get-caller-identity --query Account --output text)
if [ "$actual" != '111122223333' ]; then echo "these credentials are for account $actual, not 111122223333" >&2; exit 1; fi

# Create the policies
aws iam create-policy --policy-name 'dev-sandbox-s3' --path '/iamgroups/' --description 'Created by iamgroups from inline policy dev-sandbox-s3, sandbox-bucket of user ethan.brooks, fatima.zahra' --policy-document '{"Statement":[{"Action":["s3:*"],"Effect":"Allow","Resource":["arn:aws:s3:::northwind-dev-sandbox","arn:aws:s3:::northwind-dev-sandbox/*"]}],"Version":"2012-10-17"}' > /dev/null
aws iam create-policy --policy-name 'etl-kms-decrypt' --path '/iamgroups/' --description 'Created by iamgroups from inline policy etl-kms-decrypt of user legacy-etl' --policy-document '{"Statement":[{"Action":["kms:Decrypt","kms:GenerateDataKey"],"Effect":"Allow","Resource":["arn:aws:kms:eu-west-1:111122223333:key/5f1c2e8a-3b4d-4c6e-9a7f-2d8e1b0c4a93"],"Sid":"DecryptLandingZone"}],"Version":"2012-10-17"}' > /dev/null
aws iam create-policy --policy-name 'athena-results-bucket' --path '/iamgroups/' --description 'Created by iamgroups from inline policy athena-results-bucket, AthenaResultsAccess of user amelia.chen, diego.ramirez, hana.sato, kenji.watanabe, legacy-etl and 1 more' --policy-document '{"Statement":[{"Action":["s3:AbortMultipartUpload","s3:GetBucketLocation","s3:GetObject","s3:ListBucket","s3:ListMultipartUploadParts","s3:PutObject"],"Effect":"Allow","Resource":["arn:aws:s3:::northwind-athena-results-eu-west-1","arn:aws:s3:::northwind-athena-results-eu-west-1/*"],"Sid":"AthenaQueryResults"}],"Version":"2012-10-17"}' > /dev/null

# Create the groups
aws iam create-group --group-name 'AmazonDynamoDBReadOnlyAccess-and-3-more' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'AmazonEC2ReadOnlyAccess-and-2-more' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'etl-kms-decrypt+etl-landing-bucket-write' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'AmazonAthenaFullAccess-and-2-more' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'AmazonAthenaFullAccess-and-3-more' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'AmazonEC2ContainerRegistryPowerUser+ci-artifacts-publish' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'AWSBillingReadOnlyAccess+CostExplorerReports' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'AmazonEC2ReadOnlyAccess+CloudWatchLogsReadOnlyAccess' --path '/iamgroups/' > /dev/null
aws iam create-group --group-name 'CloudWatchReadOnlyAccess-and-2-more' --path '/iamgroups/' > /dev/null

# Attach policies to the new groups
aws iam attach-group-policy --group-name 'AmazonDynamoDBReadOnlyAccess-and-3-more' --policy-arn 'arn:aws:iam::111122223333:policy/iamgroups/dev-sandbox-s3'
aws iam attach-group-policy --group-name 'AmazonDynamoDBReadOnlyAccess-and-3-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonDynamoDBReadOnlyAccess-and-3-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonDynamoDBReadOnlyAccess-and-3-more' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonEC2ReadOnlyAccess-and-2-more' --policy-arn 'arn:aws:iam::111122223333:policy/iamgroups/dev-sandbox-s3'
aws iam attach-group-policy --group-name 'AmazonEC2ReadOnlyAccess-and-2-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonEC2ReadOnlyAccess-and-2-more' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess'
aws iam attach-group-policy --group-name 'etl-kms-decrypt+etl-landing-bucket-write' --policy-arn 'arn:aws:iam::111122223333:policy/etl-landing-bucket-write'
aws iam attach-group-policy --group-name 'etl-kms-decrypt+etl-landing-bucket-write' --policy-arn 'arn:aws:iam::111122223333:policy/iamgroups/etl-kms-decrypt'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::111122223333:policy/iamgroups/athena-results-bucket'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonRDSReadOnlyAccess'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonSNSFullAccess'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonSQSFullAccess'
aws iam attach-group-policy --group-name 'AWSLambda_ReadOnlyAccess-and-9-more' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonAthenaFullAccess-and-2-more' --policy-arn 'arn:aws:iam::111122223333:policy/iamgroups/athena-results-bucket'
aws iam attach-group-policy --group-name 'AmazonAthenaFullAccess-and-2-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam attach-group-policy --group-name 'AmazonAthenaFullAccess-and-2-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonAthenaFullAccess-and-3-more' --policy-arn 'arn:aws:iam::111122223333:policy/iamgroups/athena-results-bucket'
aws iam attach-group-policy --group-name 'AmazonAthenaFullAccess-and-3-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam attach-group-policy --group-name 'AmazonAthenaFullAccess-and-3-more' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonAthenaFullAccess-and-3-more' --policy-arn 'arn:aws:iam::aws:policy/job-function/DataScientist'
aws iam attach-group-policy --group-name 'AmazonEC2ContainerRegistryPowerUser+ci-artifacts-publish' --policy-arn 'arn:aws:iam::111122223333:policy/ci-artifacts-publish'
aws iam attach-group-policy --group-name 'AmazonEC2ContainerRegistryPowerUser+ci-artifacts-publish' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser'
aws iam attach-group-policy --group-name 'AWSBillingReadOnlyAccess+CostExplorerReports' --policy-arn 'arn:aws:iam::111122223333:policy/finance/CostExplorerReports'
aws iam attach-group-policy --group-name 'AWSBillingReadOnlyAccess+CostExplorerReports' --policy-arn 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonEC2ReadOnlyAccess+CloudWatchLogsReadOnlyAccess' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'
aws iam attach-group-policy --group-name 'AmazonEC2ReadOnlyAccess+CloudWatchLogsReadOnlyAccess' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess'
aws iam attach-group-policy --group-name 'CloudWatchReadOnlyAccess-and-2-more' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess'
aws iam attach-group-policy --group-name 'CloudWatchReadOnlyAccess-and-2-more' --policy-arn 'arn:aws:iam::aws:policy/job-function/NetworkAdministrator'
aws iam attach-group-policy --group-name 'CloudWatchReadOnlyAccess-and-2-more' --policy-arn 'arn:aws:iam::aws:policy/job-function/SystemAdministrator'

# Add users to groups
aws iam add-user-to-group --user-name 'amelia.chen' --group-name 'AmazonAthenaFullAccess-and-2-more'
aws iam add-user-to-group --user-name 'ci-deployer' --group-name 'AmazonEC2ContainerRegistryPowerUser+ci-artifacts-publish'
aws iam add-user-to-group --user-name 'diego.ramirez' --group-name 'AmazonAthenaFullAccess-and-2-more'
aws iam add-user-to-group --user-name 'ethan.brooks' --group-name 'AmazonEC2ReadOnlyAccess-and-2-more'
aws iam add-user-to-group --user-name 'fatima.zahra' --group-name 'AmazonDynamoDBReadOnlyAccess-and-3-more'
aws iam add-user-to-group --user-name 'grace.okafor' --group-name 'AWSBillingReadOnlyAccess+CostExplorerReports'
aws iam add-user-to-group --user-name 'hana.sato' --group-name 'AmazonAthenaFullAccess-and-2-more'
aws iam add-user-to-group --user-name 'julia.novak' --group-name 'AmazonEC2ReadOnlyAccess+CloudWatchLogsReadOnlyAccess'
aws iam add-user-to-group --user-name 'julia.novak' --group-name 'Developers'
aws iam add-user-to-group --user-name 'kenji.watanabe' --group-name 'AmazonAthenaFullAccess-and-3-more'
aws iam add-user-to-group --user-name 'legacy-etl' --group-name 'AWSLambda_ReadOnlyAccess-and-9-more'
aws iam add-user-to-group --user-name 'legacy-etl' --group-name 'DataAnalysts'
aws iam add-user-to-group --user-name 'legacy-etl' --group-name 'etl-kms-decrypt+etl-landing-bucket-write'
aws iam add-user-to-group --user-name 'martin.lewis' --group-name 'AWSBillingReadOnlyAccess+CostExplorerReports'
aws iam add-user-to-group --user-name 'mia.lindqvist' --group-name 'CloudWatchReadOnlyAccess-and-2-more'
aws iam add-user-to-group --user-name 'oliver.grant' --group-name 'AmazonAthenaFullAccess-and-2-more'
aws iam add-user-to-group --user-name 'sofia.russo' --group-name 'AWSBillingReadOnlyAccess+CostExplorerReports'

# Detach users' managed policies
aws iam detach-user-policy --user-name 'amelia.chen' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam detach-user-policy --user-name 'amelia.chen' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam detach-user-policy --user-name 'ci-deployer' --policy-arn 'arn:aws:iam::111122223333:policy/ci-artifacts-publish'
aws iam detach-user-policy --user-name 'ci-deployer' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser'
aws iam detach-user-policy --user-name 'diego.ramirez' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam detach-user-policy --user-name 'diego.ramirez' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam detach-user-policy --user-name 'ethan.brooks' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'
aws iam detach-user-policy --user-name 'ethan.brooks' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess'
aws iam detach-user-policy --user-name 'fatima.zahra' --policy-arn 'arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess'
aws iam detach-user-policy --user-name 'fatima.zahra' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'
aws iam detach-user-policy --user-name 'fatima.zahra' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess'
aws iam detach-user-policy --user-name 'grace.okafor' --policy-arn 'arn:aws:iam::111122223333:policy/finance/CostExplorerReports'
aws iam detach-user-policy --user-name 'grace.okafor' --policy-arn 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess'
aws iam detach-user-policy --user-name 'hana.sato' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam detach-user-policy --user-name 'hana.sato' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam detach-user-policy --user-name 'julia.novak' --policy-arn 'arn:aws:iam::aws:policy/AWSCodeCommitPowerUser'
aws iam detach-user-policy --user-name 'julia.novak' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPowerUser'
aws iam detach-user-policy --user-name 'julia.novak' --policy-arn 'arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess'
aws iam detach-user-policy --user-name 'julia.novak' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess'
aws iam detach-user-policy --user-name 'julia.novak' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess'
aws iam detach-user-policy --user-name 'kenji.watanabe' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam detach-user-policy --user-name 'kenji.watanabe' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam detach-user-policy --user-name 'kenji.watanabe' --policy-arn 'arn:aws:iam::aws:policy/job-function/DataScientist'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::111122223333:policy/etl-landing-bucket-write'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AWSGlueConsoleFullAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AWSLambda_ReadOnlyAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AmazonKinesisReadOnlyAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AmazonRDSReadOnlyAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AmazonRedshiftReadOnlyAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AmazonSNSFullAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/AmazonSQSFullAccess'
aws iam detach-user-policy --user-name 'legacy-etl' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess'
aws iam detach-user-policy --user-name 'martin.lewis' --policy-arn 'arn:aws:iam::111122223333:policy/finance/CostExplorerReports'
aws iam detach-user-policy --user-name 'martin.lewis' --policy-arn 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess'
aws iam detach-user-policy --user-name 'mia.lindqvist' --policy-arn 'arn:aws:iam::aws:policy/CloudWatchReadOnlyAccess'
aws iam detach-user-policy --user-name 'mia.lindqvist' --policy-arn 'arn:aws:iam::aws:policy/job-function/NetworkAdministrator'
aws iam detach-user-policy --user-name 'mia.lindqvist' --policy-arn 'arn:aws:iam::aws:policy/job-function/SystemAdministrator'
aws iam detach-user-policy --user-name 'oliver.grant' --policy-arn 'arn:aws:iam::aws:policy/AmazonAthenaFullAccess'
aws iam detach-user-policy --user-name 'oliver.grant' --policy-arn 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'
aws iam detach-user-policy --user-name 'sofia.russo' --policy-arn 'arn:aws:iam::111122223333:policy/finance/CostExplorerReports'
aws iam detach-user-policy --user-name 'sofia.russo' --policy-arn 'arn:aws:iam::aws:policy/AWSBillingReadOnlyAccess'

# Delete users' inline policies
aws iam delete-user-policy --user-name 'amelia.chen' --policy-name 'athena-results-bucket'
aws iam delete-user-policy --user-name 'diego.ramirez' --policy-name 'athena-results-bucket'
aws iam delete-user-policy --user-name 'ethan.brooks' --policy-name 'dev-sandbox-s3'
aws iam delete-user-policy --user-name 'fatima.zahra' --policy-name 'sandbox-bucket'
aws iam delete-user-policy --user-name 'hana.sato' --policy-name 'AthenaResultsAccess'
aws iam delete-user-policy --user-name 'kenji.watanabe' --policy-name 'athena-results-bucket'
aws iam delete-user-policy --user-name 'legacy-etl' --policy-name 'athena-results-bucket'
aws iam delete-user-policy --user-name 'legacy-etl' --policy-name 'etl-kms-decrypt'
aws iam delete-user-policy --user-name 'oliver.grant' --policy-name 'athena-results-bucket'
