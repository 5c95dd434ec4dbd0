## Contact field of the send dialog (staff).

contact-error-empty = Enter the patient's email address, mobile phone number, or both separated by a comma.
contact-error-email = “{ $token }” is not an email address. Use the form name@example.com, without spaces.
contact-error-phone = “{ $token }” is not a phone number. Type the number as it is dialled in the clinic's country (e.g. 612 345 678 for { $code }), or start with + and the country code.
contact-error-unrecognized = “{ $token }” is neither an email address nor a phone number. Separate an email and a phone number with a comma.
contact-warning-sms-only = Only a phone number: adding an email helps delivery.
contact-warning-email-typo = Did you mean { $suggestion } instead of { $entered }?
contact-warning-not-mobile = { $phone } does not look like a mobile number: the text message may not arrive.

## Patient email. Only the clinic's name, the link and the expiry date: never patient data.

email-subject = Your images from { $clinic }
email-heading = Your images are ready
email-intro = { $clinic } has shared your images with you. You can view and download them with the button below, on your phone or computer.
email-intro-text = { $clinic } has shared your images with you. You can view and download them at this address, on your phone or computer.
email-button = View my images
email-link-fallback = If the button does not work, copy this address into your browser:
email-expiry = The link works until { $date }.
email-contact = Questions? Contact { $clinic }:
email-contact-phone = Phone: { $phone }
email-contact-email = Email: { $email }
email-footer = You received this message because { $clinic } entered this address for you. Do not forward it: anyone with the link can see your images.

## Patient SMS: must stay within 160 GSM-7 characters with a long link.

sms-body = { $clinic }: your images are ready at { $link } (until { $date })
sms-body-short = { $clinic }: your images { $link }
