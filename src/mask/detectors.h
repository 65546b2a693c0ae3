/*
 * detectors — the names of the built-in detectors, in their order (index =
 * slot in counts[]): what mask.c compiles and what the configuration accepts.
 * No dependencies, so config.c reads the same list.
 */
#ifndef WARDEN_MASK_DETECTORS_H
#define WARDEN_MASK_DETECTORS_H

/* The built-in detectors, in this order (index = bit in counts[]). */
#define MASK_DETECTORS(X)                                                                 \
	X(EMAIL, "email") X(PHONE, "phone") X(CREDIT_CARD, "credit_card") X(IBAN, "iban")    \
	X(US_SSN, "us_ssn") X(IPV4, "ipv4") X(JWT, "jwt") X(AWS_ACCESS_KEY, "aws_access_key") \
	X(AZURE_STORAGE_KEY, "azure_storage_key") X(PRIVATE_KEY, "private_key")              \
	X(PASSWORD_IN_URL, "password_in_url") X(BEARER_TOKEN, "bearer_token")                 \
	X(AWS_SECRET_KEY, "aws_secret_key") X(GITHUB_TOKEN, "github_token")                  \
	X(SLACK_TOKEN, "slack_token") X(STRIPE_KEY, "stripe_key") X(GOOGLE_API_KEY, "google_api_key") \
	X(OPENAI_KEY, "openai_key") X(ANTHROPIC_KEY, "anthropic_key") X(BASIC_AUTH, "basic_auth")      \
	X(PASSWORD_IN_TEXT, "password_in_text")

#endif
