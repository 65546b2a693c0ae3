/*
 * policy — the decide stage. Given who asks (the neutral session) and what
 * (the neutral request description), returns what to do and the rule that
 * decided. Knows nothing about wire formats.
 *
 * The rule language arrives with the policy issue; until then the only rule
 * is the built-in `default-allow`, and the stage already sits in the path of
 * every request so the rules slot in without touching the adapters.
 */
#ifndef WARDEN_POLICY_H
#define WARDEN_POLICY_H

#include "pipeline/session.h"

typedef enum { POLICY_ALLOW = 0, POLICY_DENY } policy_action;

typedef struct policy_decision {
	policy_action action;
	const char *rule;       /* static string: the rule's name */
	const char *message;    /* for deny: what the client is told */
} policy_decision;

policy_decision policy_decide(const session *s, const request_desc *r);
const char *policy_action_name(policy_action a);

#endif
