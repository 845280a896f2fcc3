package synth

// The writers below print members in the order of the IAM service model
// (botocore's service-2.json), which is the order the AWS CLI prints them.

type printer struct {
	*emitter
	urlEncode       bool
	partition, acct string
}

func (p *printer) document(k string, d *document) {
	p.key(k)
	if p.urlEncode {
		p.str(d.encoded())
	} else {
		p.value(d.tree)
	}
}

func (p *printer) account(a *account) {
	p.beginObject()
	p.key("UserDetailList")
	p.beginArray()
	for i := range a.users {
		p.user(&a.users[i])
	}
	p.endArray()
	p.key("GroupDetailList")
	p.beginArray()
	for i := range a.groups {
		p.group(&a.groups[i])
	}
	p.endArray()
	p.key("RoleDetailList")
	p.beginArray()
	for i := range a.roles {
		p.role(&a.roles[i])
	}
	p.endArray()
	p.key("Policies")
	p.beginArray()
	for _, c := range a.policies {
		p.managedPolicy(c)
	}
	p.endArray()
	p.key("IsTruncated")
	p.boolean(false)
	p.endObject()
	p.w.WriteByte('\n')
}

func (p *printer) user(u *user) {
	p.beginObject()
	p.keyStr("Path", u.path)
	p.keyStr("UserName", u.name)
	p.keyStr("UserId", u.id)
	p.keyStr("Arn", "arn:"+p.partition+":iam::"+p.acct+":user"+u.path+u.name)
	p.keyStr("CreateDate", u.created)
	if len(u.inline) > 0 {
		p.inlineList("UserPolicyList", u.inline)
	}
	p.key("GroupList")
	p.beginArray()
	for _, g := range u.groups {
		p.str(g)
	}
	p.endArray()
	p.attachedList(u.attached)
	p.boundary(u.boundary)
	p.tags(u.tags)
	p.endObject()
}

func (p *printer) group(g *group) {
	p.beginObject()
	p.keyStr("Path", g.path)
	p.keyStr("GroupName", g.name)
	p.keyStr("GroupId", g.id)
	p.keyStr("Arn", "arn:"+p.partition+":iam::"+p.acct+":group"+g.path+g.name)
	p.keyStr("CreateDate", g.created)
	p.inlineList("GroupPolicyList", g.inline)
	p.attachedList(g.attached)
	p.endObject()
}

func (p *printer) roleHead(r *role) {
	p.keyStr("Path", r.path)
	p.keyStr("RoleName", r.name)
	p.keyStr("RoleId", r.id)
	p.keyStr("Arn", "arn:"+p.partition+":iam::"+p.acct+":role"+r.path+r.name)
	p.keyStr("CreateDate", r.created)
	p.document("AssumeRolePolicyDocument", r.trust)
}

func (p *printer) role(r *role) {
	p.beginObject()
	p.roleHead(r)
	p.key("InstanceProfileList")
	p.beginArray()
	for _, ip := range r.profiles {
		p.beginObject()
		p.keyStr("Path", ip.path)
		p.keyStr("InstanceProfileName", ip.name)
		p.keyStr("InstanceProfileId", ip.id)
		p.keyStr("Arn", "arn:"+p.partition+":iam::"+p.acct+":instance-profile"+ip.path+ip.name)
		p.keyStr("CreateDate", ip.created)
		p.key("Roles")
		p.beginArray()
		p.beginObject()
		p.roleHead(r)
		p.endObject()
		p.endArray()
		p.endObject()
	}
	p.endArray()
	p.inlineList("RolePolicyList", r.inline)
	p.attachedList(r.attached)
	p.boundary(r.boundary)
	p.tags(r.tags)
	p.key("RoleLastUsed")
	p.beginObject()
	if r.lastUsed != "" {
		p.keyStr("LastUsedDate", r.lastUsed)
		p.keyStr("Region", r.lastRegion)
	}
	p.endObject()
	p.endObject()
}

func (p *printer) managedPolicy(c *custPolicy) {
	p.beginObject()
	p.keyStr("PolicyName", c.name)
	p.keyStr("PolicyId", c.id)
	p.keyStr("Arn", "arn:"+p.partition+":iam::"+p.acct+":policy"+c.path+c.name)
	p.keyStr("Path", c.path)
	p.keyStr("DefaultVersionId", "v1")
	p.key("AttachmentCount")
	p.integer(c.attachments)
	p.key("PermissionsBoundaryUsageCount")
	p.integer(c.boundaryUses)
	p.key("IsAttachable")
	p.boolean(true)
	p.keyStr("CreateDate", c.created)
	p.keyStr("UpdateDate", c.updated)
	p.key("PolicyVersionList")
	p.beginArray()
	p.beginObject()
	p.document("Document", c.doc)
	p.keyStr("VersionId", "v1")
	p.key("IsDefaultVersion")
	p.boolean(true)
	p.keyStr("CreateDate", c.updated)
	p.endObject()
	p.endArray()
	p.endObject()
}

func (p *printer) inlineList(k string, ps []inlinePolicy) {
	p.key(k)
	p.beginArray()
	for _, ip := range ps {
		p.beginObject()
		p.keyStr("PolicyName", ip.name)
		p.document("PolicyDocument", ip.doc)
		p.endObject()
	}
	p.endArray()
}

func (p *printer) attachedList(as []attachedPolicy) {
	p.key("AttachedManagedPolicies")
	p.beginArray()
	for _, a := range as {
		p.beginObject()
		p.keyStr("PolicyName", a.name)
		p.keyStr("PolicyArn", a.arn)
		p.endObject()
	}
	p.endArray()
}

func (p *printer) boundary(arn string) {
	if arn == "" {
		return
	}
	p.key("PermissionsBoundary")
	p.beginObject()
	p.keyStr("PermissionsBoundaryType", "Policy")
	p.keyStr("PermissionsBoundaryArn", arn)
	p.endObject()
}

func (p *printer) tags(ts []tag) {
	if len(ts) == 0 {
		return
	}
	p.key("Tags")
	p.beginArray()
	for _, t := range ts {
		p.beginObject()
		p.keyStr("Key", t.key)
		p.keyStr("Value", t.value)
		p.endObject()
	}
	p.endArray()
}
