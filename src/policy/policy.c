/* policy — see policy.h. */
#include "policy/policy.h"

policy_decision policy_decide(const session *s, const request_desc *r)
{
	(void)s;
	(void)r;
	policy_decision d = {POLICY_ALLOW, "default-allow", NULL};
	return d;
}

const char *policy_action_name(policy_action a)
{
	return a == POLICY_ALLOW ? "allow" : "deny";
}
