package synth

// The fixed material the generator draws from: people, teams, groups, real
// AWS managed policy names, and the pools of policy documents that repeat
// across users as they do in real accounts. Everything is a slice, so that
// drawing from it never depends on map order.

var firstInitials = "abcdefghijklmnoprstvwy"

var lastNames = []string{
	"smith", "johnson", "williams", "brown", "jones", "garcia", "miller", "davis",
	"rodriguez", "martinez", "hernandez", "lopez", "gonzalez", "wilson", "anderson",
	"thomas", "taylor", "moore", "jackson", "martin", "lee", "perez", "thompson",
	"white", "harris", "sanchez", "clark", "ramirez", "lewis", "robinson", "walker",
	"young", "allen", "king", "wright", "scott", "torres", "nguyen", "hill", "flores",
	"green", "adams", "nelson", "baker", "hall", "rivera", "campbell", "mitchell",
	"carter", "roberts", "kim", "patel", "chen", "singh", "kumar", "muller", "schmidt",
	"rossi", "dubois", "tanaka", "sato", "ivanov", "kowalski", "novak", "silva",
}

// team is a part of the company: the middle of a user name and the group
// its members usually belong to.
type team struct {
	name   string
	weight int
	group  string
}

var teams = []team{
	{"eng", 30, "Developers"},
	{"ops", 8, "DevOps"},
	{"data", 8, "DataEngineering"},
	{"ds", 5, "DataScience"},
	{"ml", 3, "MLEngineering"},
	{"sec", 4, "SecurityAuditors"},
	{"fin", 5, "Finance"},
	{"qa", 7, "QA"},
	{"sup", 7, "Support"},
	{"mkt", 5, "Marketing"},
	{"net", 2, "NetworkAdmins"},
	{"dba", 2, "DBAdmins"},
	{"it", 4, "Admins"},
	{"plat", 5, "Platform"},
	{"bi", 5, "ReadOnly"},
}

// awsPolicy is an AWS managed policy: arn:<partition>:iam::aws:policy/<path><name>.
type awsPolicy struct {
	path string // "" or e.g. "job-function/"
	name string
}

// awsManaged are real AWS managed policies, most often attached directly to
// users first (the generator draws with a bias towards the front).
var awsManaged = []awsPolicy{
	{"", "IAMUserChangePassword"},
	{"", "ReadOnlyAccess"},
	{"", "AdministratorAccess"},
	{"", "AmazonS3ReadOnlyAccess"},
	{"", "AmazonS3FullAccess"},
	{"", "AmazonEC2FullAccess"},
	{"", "PowerUserAccess"},
	{"", "AmazonEC2ReadOnlyAccess"},
	{"", "CloudWatchReadOnlyAccess"},
	{"", "AWSCodeCommitPowerUser"},
	{"job-function/", "ViewOnlyAccess"},
	{"", "AmazonDynamoDBFullAccess"},
	{"", "AWSLambda_FullAccess"},
	{"", "IAMReadOnlyAccess"},
	{"", "AmazonRDSReadOnlyAccess"},
	{"", "AmazonSQSFullAccess"},
	{"", "AmazonSNSFullAccess"},
	{"", "CloudWatchLogsReadOnlyAccess"},
	{"", "AWSCloudFormationReadOnlyAccess"},
	{"", "AmazonVPCReadOnlyAccess"},
	{"job-function/", "Billing"},
	{"", "SecurityAudit"},
	{"", "AmazonRDSFullAccess"},
	{"", "AWSCodeCommitReadOnly"},
	{"", "AmazonEC2ContainerRegistryReadOnly"},
	{"", "AmazonAthenaFullAccess"},
	{"", "SecretsManagerReadWrite"},
	{"", "AmazonDynamoDBReadOnlyAccess"},
	{"", "AWSLambda_ReadOnlyAccess"},
	{"", "AmazonRoute53FullAccess"},
	{"job-function/", "DatabaseAdministrator"},
	{"job-function/", "NetworkAdministrator"},
	{"job-function/", "SystemAdministrator"},
	{"job-function/", "DataScientist"},
	{"job-function/", "SupportUser"},
	{"", "AWSBillingReadOnlyAccess"},
	{"", "AWSSupportAccess"},
	{"", "AmazonSESFullAccess"},
	{"", "AWSKeyManagementServicePowerUser"},
	{"", "AmazonSageMakerFullAccess"},
	{"service-role/", "AWSLambdaBasicExecutionRole"},
	{"service-role/", "AmazonEC2RoleforSSM"},
	{"", "AWSCodePipeline_FullAccess"},
	{"", "AmazonKinesisReadOnlyAccess"},
	{"", "AWSCertificateManagerReadOnly"},
	{"", "IAMFullAccess"},
}

// groupSpec describes one of the account's groups. Managed policies are
// AWS managed ("path/Name" as in awsPolicy) or, with a "cust:" prefix, one
// of custPolicies by name; inline names refer to the inline pool.
type groupSpec struct {
	name    string
	path    string
	managed []string
	inline  []string
}

var groupSpecs = []groupSpec{
	{"Admins", "/", []string{"AdministratorAccess"}, nil},
	{"Billing", "/", []string{"job-function/Billing"}, nil},
	{"BreakGlass", "/", []string{"AdministratorAccess"}, []string{"RegionRestriction"}},
	{"Contractors", "/contractors/", []string{"job-function/ViewOnlyAccess"}, []string{"DenyOutsideCorpNetwork"}},
	{"DBAdmins", "/", []string{"job-function/DatabaseAdministrator"}, nil},
	{"DataEngineering", "/", []string{"AmazonAthenaFullAccess", "AmazonS3ReadOnlyAccess", "cust:AthenaQueryRunner"}, []string{"glue-jobs-run"}},
	{"DataScience", "/", []string{"job-function/DataScientist", "AmazonSageMakerFullAccess"}, nil},
	{"DevOps", "/", []string{"AmazonEC2FullAccess", "AmazonECS_FullAccess", "AWSCloudFormationReadOnlyAccess", "cust:AssumeDeployRoles"}, nil},
	{"Developers", "/engineering/", []string{"AWSCodeCommitPowerUser", "AmazonEC2ReadOnlyAccess", "CloudWatchReadOnlyAccess"}, []string{"AllowManageOwnAccessKeys"}},
	{"EnforceMFA", "/", []string{"IAMUserChangePassword"}, []string{"ForceMFA"}},
	{"Finance", "/", []string{"AWSBillingReadOnlyAccess", "cust:BillingViewer"}, nil},
	{"MLEngineering", "/", []string{"AmazonSageMakerFullAccess", "AmazonS3ReadOnlyAccess"}, nil},
	{"Marketing", "/", []string{"AmazonSESFullAccess"}, []string{"cloudfront-invalidate"}},
	{"NetworkAdmins", "/", []string{"job-function/NetworkAdministrator", "AmazonVPCFullAccess"}, nil},
	{"OnCall", "/", []string{"CloudWatchFullAccess", "AmazonEC2ReadOnlyAccess"}, []string{"ec2-start-stop-dev"}},
	{"Platform", "/engineering/", []string{"AmazonEC2ContainerRegistryReadOnly", "AmazonVPCReadOnlyAccess", "cust:ECRPush"}, nil},
	{"QA", "/", []string{"AmazonS3ReadOnlyAccess", "CloudWatchLogsReadOnlyAccess"}, nil},
	{"ReadOnly", "/", []string{"ReadOnlyAccess"}, nil},
	{"SecurityAuditors", "/", []string{"SecurityAudit", "job-function/ViewOnlyAccess"}, nil},
	{"Support", "/", []string{"AWSSupportAccess", "job-function/SupportUser"}, nil},
}

// extraGroups are groups that users of any team join besides their own.
var extraGroups = []string{"OnCall", "ReadOnly", "Billing"}

// serviceLinkedRole is an AWS service-linked role as AWS creates it.
type serviceLinkedRole struct {
	name, service, policy string
}

var serviceLinkedRoles = []serviceLinkedRole{
	{"AWSServiceRoleForSupport", "support.amazonaws.com", "AWSSupportServiceRolePolicy"},
	{"AWSServiceRoleForTrustedAdvisor", "trustedadvisor.amazonaws.com", "AWSTrustedAdvisorServiceRolePolicy"},
	{"AWSServiceRoleForOrganizations", "organizations.amazonaws.com", "AWSOrganizationsServiceTrustPolicy"},
	{"AWSServiceRoleForElasticLoadBalancing", "elasticloadbalancing.amazonaws.com", "AWSElasticLoadBalancingServiceRolePolicy"},
	{"AWSServiceRoleForAutoScaling", "autoscaling.amazonaws.com", "AutoScalingServiceRolePolicy"},
	{"AWSServiceRoleForECS", "ecs.amazonaws.com", "AmazonECSServiceRolePolicy"},
	{"AWSServiceRoleForRDS", "rds.amazonaws.com", "AmazonRDSServiceRolePolicy"},
	{"AWSServiceRoleForAmazonEKS", "eks.amazonaws.com", "AmazonEKSServiceRolePolicy"},
	{"AWSServiceRoleForSSO", "sso.amazonaws.com", "AWSSSOServiceRolePolicy"},
	{"AWSServiceRoleForCloudTrail", "cloudtrail.amazonaws.com", "CloudTrailServiceRolePolicy"},
}

// apps name the workloads that roles belong to.
var apps = []string{
	"orders", "payments", "billing", "search", "catalog", "inventory", "auth",
	"reporting", "ingest", "etl", "notifications", "analytics", "checkout", "media",
}

// custSpec is a customer managed policy of the account.
type custSpec struct {
	name, path, doc string // doc names an inline pool document
}

// custSpecs are the account's customer managed policies; the last two are
// permissions boundaries.
var custSpecs = []custSpec{
	{"S3ReportsReadOnly", "/", "s3-reports-read"},
	{"DynamoDBOrdersReadWrite", "/", "dynamodb-orders-rw"},
	{"SQSJobsConsumer", "/", "sqs-jobs-consume"},
	{"KMSDecryptAppKey", "/", "kms-decrypt-app"},
	{"CIArtifactsWrite", "/ci/", "s3-deploy-artifacts"},
	{"EC2DevStartStop", "/", "ec2-start-stop-dev"},
	{"AppSecretsRead", "/", "secrets-read-app"},
	{"SSMParameterRead", "/", "ssm-params-read"},
	{"ECRPush", "/ci/", "ecr-push"},
	{"AthenaQueryRunner", "/", "athena-query"},
	{"Route53DevZone", "/", "route53-dev-zone"},
	{"CloudFrontInvalidate", "/", "cloudfront-invalidate"},
	{"CodeCommitRepoPush", "/", "codecommit-repo-push"},
	{"AssumeDeployRoles", "/", "assume-deploy-role"},
	{"GlueJobRunner", "/", "glue-jobs-run"},
	{"BillingViewer", "/", "billing-view"},
	{"DeveloperBoundary", "/boundaries/", "developer-boundary"},
	{"ContractorBoundary", "/boundaries/", "contractor-boundary"},
}

// Indexes of the boundary policies in custSpecs.
const (
	custDeveloperBoundary  = 16
	custContractorBoundary = 17
	custUserAttachable     = 16 // custSpecs[:custUserAttachable] are attached to users
)

// env is what documents interpolate: the partition, account and a region.
type env struct {
	part, acct, region string
}

func regionFor(part string) string {
	switch part {
	case "aws-cn":
		return "cn-north-1"
	case "aws-us-gov":
		return "us-gov-west-1"
	}
	return "us-east-1"
}

// regionsFor gives four regions per partition, so that drawing one consumes
// the same randomness whatever the partition.
func regionsFor(part string) [4]string {
	switch part {
	case "aws-cn":
		return [4]string{"cn-north-1", "cn-northwest-1", "cn-north-1", "cn-north-1"}
	case "aws-us-gov":
		return [4]string{"us-gov-west-1", "us-gov-east-1", "us-gov-west-1", "us-gov-west-1"}
	}
	return [4]string{"us-east-1", "us-west-2", "eu-west-1", "us-east-1"}
}

// poolDoc is a named policy document shared by many principals.
type poolDoc struct {
	name string
	tree obj
}

const version = "2012-10-17"

// policy builds a document with a list of statements.
func policy(stmts ...obj) obj {
	a := make(arr, len(stmts))
	for i, s := range stmts {
		a[i] = s
	}
	return obj{{"Version", version}, {"Statement", a}}
}

// policy1 builds a document whose Statement is a single object, as IAM
// allows and many hand-written policies do.
func policy1(s obj) obj {
	return obj{{"Version", version}, {"Statement", s}}
}

// inlinePool returns the shared documents. The first ones are drawn most.
func inlinePool(e env) []poolDoc {
	p, a, r := e.part, e.acct, e.region
	arn := func(svc, res string) string { return "arn:" + p + ":" + svc + ":" + r + ":" + a + ":" + res }
	s3 := func(res string) string { return "arn:" + p + ":s3:::" + res }
	return []poolDoc{
		{"s3-reports-read", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("s3:GetObject", "s3:ListBucket")},
			{"Resource", strs(s3("acme-reports"), s3("acme-reports/*"))},
		})},
		{"ForceMFA", policy(obj{
			{"Sid", "DenyAllExceptListedIfNoMFA"},
			{"Effect", "Deny"},
			{"NotAction", strs("iam:CreateVirtualMFADevice", "iam:EnableMFADevice", "iam:GetUser",
				"iam:ListMFADevices", "iam:ListVirtualMFADevices", "iam:ResyncMFADevice", "sts:GetSessionToken")},
			{"Resource", "*"},
			{"Condition", obj{{"BoolIfExists", obj{{"aws:MultiFactorAuthPresent", "false"}}}}},
		})},
		{"dynamodb-orders-rw", policy1(obj{
			{"Effect", "Allow"},
			{"Action", strs("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query")},
			{"Resource", arn("dynamodb", "table/orders")},
		})},
		{"sqs-jobs-consume", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")},
			{"Resource", arn("sqs", "jobs-queue")},
		})},
		{"kms-decrypt-app", policy1(obj{
			{"Effect", "Allow"},
			{"Action", "kms:Decrypt"},
			{"Resource", arn("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")},
		})},
		{"DenyBillingAndIAMPolicy", policy1(obj{
			{"Effect", "Deny"},
			{"Action", strs("aws-portal:*", "iam:*")},
			{"Resource", "*"},
		})},
		{"policygen-201310141157", policy(obj{
			{"Action", "aws-portal:*"},
			{"Sid", "Stmt1381777017000"},
			{"Resource", "*"},
			{"Effect", "Allow"},
		})},
		{"AllowManageOwnAccessKeys", policy(obj{
			{"Sid", "ManageOwnAccessKeys"},
			{"Effect", "Allow"},
			{"Action", strs("iam:CreateAccessKey", "iam:DeleteAccessKey", "iam:ListAccessKeys", "iam:UpdateAccessKey")},
			{"Resource", "arn:" + p + ":iam::" + a + ":user/${aws:username}"},
		})},
		{"s3-deploy-artifacts", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("s3:PutObject", "s3:GetObject")},
			{"Resource", s3("acme-ci-artifacts/*")},
		})},
		{"ec2-start-stop-dev", policy(
			obj{
				{"Effect", "Allow"},
				{"Action", strs("ec2:StartInstances", "ec2:StopInstances")},
				{"Resource", "arn:" + p + ":ec2:*:" + a + ":instance/*"},
				{"Condition", obj{{"StringEquals", obj{{"aws:ResourceTag/Environment", "dev"}}}}},
			},
			obj{{"Effect", "Allow"}, {"Action", "ec2:DescribeInstances"}, {"Resource", "*"}},
		)},
		{"cloudwatch-put-metrics", policy1(obj{
			{"Effect", "Allow"}, {"Action", "cloudwatch:PutMetricData"}, {"Resource", "*"},
		})},
		{"logs-read-app", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("logs:GetLogEvents", "logs:FilterLogEvents", "logs:DescribeLogStreams")},
			{"Resource", arn("logs", "log-group:/aws/lambda/*")},
		})},
		{"secrets-read-app", policy(obj{
			{"Effect", "Allow"},
			{"Action", "secretsmanager:GetSecretValue"},
			{"Resource", arn("secretsmanager", "secret:prod/app/*")},
		})},
		{"ssm-params-read", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath")},
			{"Resource", arn("ssm", "parameter/app/*")},
		})},
		{"DenyOutsideCorpNetwork", policy(obj{
			{"Effect", "Deny"},
			{"Action", "*"},
			{"Resource", "*"},
			{"Condition", obj{
				{"NotIpAddress", obj{{"aws:SourceIp", strs("192.0.2.0/24", "203.0.113.0/24")}}},
				{"Bool", obj{{"aws:ViaAWSService", "false"}}},
			}},
		})},
		{"ecr-push", policy(
			obj{{"Effect", "Allow"}, {"Action", "ecr:GetAuthorizationToken"}, {"Resource", "*"}},
			obj{
				{"Effect", "Allow"},
				{"Action", strs("ecr:BatchCheckLayerAvailability", "ecr:PutImage", "ecr:InitiateLayerUpload",
					"ecr:UploadLayerPart", "ecr:CompleteLayerUpload")},
				{"Resource", arn("ecr", "repository/*")},
			},
		)},
		{"lambda-invoke-reports", policy1(obj{
			{"Effect", "Allow"}, {"Action", "lambda:InvokeFunction"}, {"Resource", arn("lambda", "function:reports-*")},
		})},
		{"sns-publish-alerts", policy(obj{
			{"Effect", "Allow"}, {"Action", "sns:Publish"}, {"Resource", arn("sns", "alerts")},
		})},
		{"athena-query", policy(
			obj{
				{"Effect", "Allow"},
				{"Action", strs("athena:StartQueryExecution", "athena:GetQueryExecution", "athena:GetQueryResults")},
				{"Resource", arn("athena", "workgroup/primary")},
			},
			obj{
				{"Effect", "Allow"},
				{"Action", strs("s3:GetObject", "s3:PutObject")},
				{"Resource", s3("acme-athena-results/*")},
			},
		)},
		{"route53-dev-zone", policy(obj{
			{"Effect", "Allow"},
			{"Action", "route53:ChangeResourceRecordSets"},
			{"Resource", "arn:" + p + ":route53:::hostedzone/Z0123456789ABCDEFGHIJ"},
		})},
		{"cloudfront-invalidate", policy1(obj{
			{"Effect", "Allow"}, {"Action", "cloudfront:CreateInvalidation"}, {"Resource", "*"},
		})},
		{"InsecureUserPolicy", policy(obj{
			{"Sid", "VisualEditor0"},
			{"Effect", "Allow"},
			{"Action", strs("s3:PutObject", "s3:PutObjectAcl", "s3:GetObject")},
			{"Resource", strs("*")},
		})},
		{"codecommit-repo-push", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("codecommit:GitPull", "codecommit:GitPush")},
			{"Resource", arn("codecommit", "platform-infra")},
		})},
		{"RegionRestriction", policy(obj{
			{"Sid", "DenyOutsideApprovedRegions"},
			{"Effect", "Deny"},
			{"NotAction", strs("iam:*", "sts:*", "support:*", "cloudfront:*", "route53:*")},
			{"Resource", "*"},
			{"Condition", obj{{"StringNotEquals", obj{{"aws:RequestedRegion", strs(r, "eu-west-1")}}}}},
		})},
		{"assume-deploy-role", policy1(obj{
			{"Effect", "Allow"}, {"Action", "sts:AssumeRole"}, {"Resource", "arn:" + p + ":iam::" + a + ":role/deploy-*"},
		})},
		{"kinesis-put", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("kinesis:PutRecord", "kinesis:PutRecords")},
			{"Resource", arn("kinesis", "stream/clickstream")},
		})},
		{"glue-jobs-run", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("glue:StartJobRun", "glue:GetJobRun", "glue:GetJobRuns")},
			{"Resource", arn("glue", "job/etl-*")},
		})},
		{"dynamodb-sessions-read", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("dynamodb:GetItem", "dynamodb:Query", "dynamodb:BatchGetItem")},
			{"Resource", strs(arn("dynamodb", "table/sessions"), arn("dynamodb", "table/sessions/index/*"))},
		})},
		{"AdminAccessTemp", policy1(obj{
			{"Effect", "Allow"}, {"Action", "*"}, {"Resource", "*"},
		})},
		{"billing-view", policy(obj{
			{"Effect", "Allow"},
			{"Action", strs("aws-portal:ViewBilling", "aws-portal:ViewUsage", "ce:GetCostAndUsage")},
			{"Resource", "*"},
		})},
		{"developer-boundary", policy(
			obj{{"Sid", "AllowAll"}, {"Effect", "Allow"}, {"Action", "*"}, {"Resource", "*"}},
			obj{
				{"Sid", "DenyBoundaryAndUserChanges"},
				{"Effect", "Deny"},
				{"Action", strs("iam:CreateUser", "iam:PutUserPermissionsBoundary", "iam:DeleteUserPermissionsBoundary",
					"iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary")},
				{"Resource", "*"},
			},
		)},
		{"contractor-boundary", policy(
			obj{{"Effect", "Allow"}, {"Action", strs("s3:*", "ec2:Describe*", "logs:*", "cloudwatch:Get*")}, {"Resource", "*"}},
			obj{{"Effect", "Deny"}, {"Action", strs("iam:*", "organizations:*", "account:*")}, {"Resource", "*"}},
		)},
	}
}

// userInline are the pool documents users hold inline, the most common
// first: small single-purpose grants, then broader or hand-copied ones.
var userInline = []string{
	"s3-reports-read", "kms-decrypt-app", "dynamodb-orders-rw", "DenyBillingAndIAMPolicy",
	"cloudwatch-put-metrics", "sqs-jobs-consume", "policygen-201310141157", "s3-deploy-artifacts",
	"AllowManageOwnAccessKeys", "secrets-read-app", "assume-deploy-role", "cloudfront-invalidate",
	"InsecureUserPolicy", "billing-view", "ssm-params-read", "logs-read-app", "lambda-invoke-reports",
	"sns-publish-alerts", "ForceMFA", "ec2-start-stop-dev", "AdminAccessTemp", "kinesis-put",
	"glue-jobs-run", "route53-dev-zone", "codecommit-repo-push", "dynamodb-sessions-read",
	"athena-query", "ecr-push", "DenyOutsideCorpNetwork", "RegionRestriction",
}

// uniqueDoc builds a document that only one user has: it names the user.
func uniqueDoc(e env, kind int, user string) (string, obj) {
	p, a, r := e.part, e.acct, e.region
	switch kind {
	case 0:
		return "home-folder-" + user, policy(
			obj{
				{"Effect", "Allow"},
				{"Action", "s3:ListBucket"},
				{"Resource", "arn:" + p + ":s3:::acme-home"},
				{"Condition", obj{{"StringLike", obj{{"s3:prefix", strs("home/" + user + "/*")}}}}},
			},
			obj{
				{"Effect", "Allow"},
				{"Action", strs("s3:GetObject", "s3:PutObject", "s3:DeleteObject")},
				{"Resource", "arn:" + p + ":s3:::acme-home/home/" + user + "/*"},
			},
		)
	case 1:
		return "scratch-bucket", policy1(obj{
			{"Effect", "Allow"},
			{"Action", "s3:*"},
			{"Resource", strs("arn:"+p+":s3:::"+user+"-scratch", "arn:"+p+":s3:::"+user+"-scratch/*")},
		})
	case 2:
		return "dev-tables", policy(obj{
			{"Effect", "Allow"},
			{"Action", "dynamodb:*"},
			{"Resource", "arn:" + p + ":dynamodb:" + r + ":" + a + ":table/dev-" + user + "-*"},
		})
	default:
		return "assume-sandbox", policy(obj{
			{"Effect", "Allow"},
			{"Action", "sts:AssumeRole"},
			{"Resource", "arn:" + p + ":iam::" + a + ":role/sandbox/" + user},
		})
	}
}

// Trust policies for roles.

func serviceTrust(service string, sid bool) obj {
	s := obj{{"Effect", "Allow"}, {"Principal", obj{{"Service", service}}}, {"Action", "sts:AssumeRole"}}
	if sid {
		s = append(obj{{"Sid", ""}}, s...)
	}
	return policy(s)
}

func githubTrust(e env, app string) obj {
	return policy(obj{
		{"Effect", "Allow"},
		{"Principal", obj{{"Federated", "arn:" + e.part + ":iam::" + e.acct + ":oidc-provider/token.actions.githubusercontent.com"}}},
		{"Action", "sts:AssumeRoleWithWebIdentity"},
		{"Condition", obj{
			{"StringEquals", obj{{"token.actions.githubusercontent.com:aud", "sts.amazonaws.com"}}},
			{"StringLike", obj{{"token.actions.githubusercontent.com:sub", "repo:acme/" + app + ":*"}}},
		}},
	})
}

func crossAccountTrust(e env, other, externalID string) obj {
	return policy(obj{
		{"Effect", "Allow"},
		{"Principal", obj{{"AWS", "arn:" + e.part + ":iam::" + other + ":root"}}},
		{"Action", "sts:AssumeRole"},
		{"Condition", obj{{"StringEquals", obj{{"sts:ExternalId", externalID}}}}},
	})
}
