# StudyLink staff pages — English.
# Keep message ids identical in every locales/*/main.ftl (a unit test checks).

app-name = StudyLink

## Header and navigation
nav-label = Main
nav-studies = Studies
nav-upload = Upload
nav-users = Users
nav-api-keys = API keys
nav-signed-in-as = Signed in as
nav-outbox = Outbox
nav-sign-out = Sign out

## Errors
error-back-home = Back to StudyLink
error-forbidden-title = Not allowed
error-admin-only = Only administrators of the clinic can open this page.
error-csrf = This form has expired or did not come from StudyLink. Go back, reload the page and try again.
error-csrf-login = This sign-in form has expired. Reload the page and try again.
error-bad-request-title = Something is wrong with the request
error-bad-form = The form was incomplete. Go back and try again.

## Sign in
login-title = Sign in
login-submit = Sign in
login-forgot = Forgot your password? Ask an administrator of your clinic for a new one.
login-failed = Incorrect email or password.
login-too-many = Too many sign-in attempts. Try again in { $minutes ->
    [one] one minute
   *[other] { $minutes } minutes
  }.

## Form fields and password rules
form-email = Email
form-password = Password
form-password-confirm = Repeat the password
form-email-invalid = Enter a valid email address.
password-rule = At least 12 characters. A few unrelated words make a good one.
password-too-short = The password must have at least 12 characters.
password-too-long = The password is too long.
password-mismatch = The two passwords are different.

## First administrator
setup-title = Set up StudyLink
setup-intro = Create the first administrator account. You can add the rest of the staff afterwards.
setup-submit = Create administrator and sign in
setup-invalid-title = This setup link no longer works
setup-invalid-body = It was already used, or it expired after 24 hours. If StudyLink has no users yet, restarting the server prints a new link; otherwise ask an administrator to add you, or run on the server: studylink user add EMAIL --admin

## Studies (home)
home-upload = Upload studies

## Users
users-title = Users
users-role = Role
users-created-at = Created
users-disabled = disabled
users-created = User { $email } created. Their password:
users-password-once = Copy it now and give it to them privately: it won't be shown again.
users-add = Add a user
users-add-submit = Add user
users-add-help = StudyLink generates the password and shows it once.
users-email-taken = That email already has a user.
role-admin = Administrator
role-staff = Staff

## API keys
keys-title = API keys
keys-intro = Keys let other systems (PACS, scripts) send and query studies for this clinic. Treat them like passwords.
keys-none = No API keys yet.
keys-name = Name
keys-name-placeholder = e.g. Reading room PACS
keys-name-invalid = Give the key a name of up to 100 characters.
keys-prefix = Key
keys-status = Status
keys-revoked-at = Revoked { $when }
keys-revoke = Revoke
keys-revoke-confirm = Revoke the key “{ $name }”? Systems using it will stop working at once.
keys-add = Create a key
keys-add-submit = Create key
keys-created = Key “{ $name }” created:
keys-once = Copy it now into the other system: it won't be shown again.

## Upload
upload-title = Upload studies
upload-intro = Add DICOM files from a disc, a USB stick or another system. Studies you upload appear with the ones devices send.
upload-drop = Drop files or folders here
upload-or = or
upload-pick-files = Choose files
upload-pick-folder = Choose a folder
upload-accepts = DICOM files, whole folders (e.g. a patient CD) and ZIP archives.
upload-col-file = File
upload-col-status = Result
upload-status-waiting = Waiting
upload-status-sending = Uploading…
upload-status-processing = Checking…
upload-status-stored = Stored
upload-status-duplicate = Already stored
upload-status-refused = Refused
upload-status-error = Failed
upload-done = Finished
upload-leave-warning = Files are still uploading. Leave anyway?
upload-reason-not-dicom = Not a DICOM file.
upload-reason-malformed = Damaged or unreadable DICOM file.
upload-reason-missing = The DICOM file lacks required information.
upload-reason-too-large = The file is larger than allowed.
upload-reason-server = The server could not store it. Try again later.
upload-reason-empty = The file is empty.
upload-reason-network = The upload was interrupted. Check the connection and try again.
upload-reason-signed-out = Your session ended. Sign in again and upload the remaining files.
upload-reason-bad-zip = Damaged or unsupported ZIP archive.
upload-reason-zip-entry = Could not extract this file from the ZIP (encrypted or unsupported compression?).
upload-reason-zip-too-many = The ZIP archive has too many files.
upload-reason-zip-bomb = The ZIP archive expands to more data than allowed.
upload-reason-zip-empty = The ZIP archive contains no files.

## Studies screen
studies-search-label = Search studies
studies-search-text = Patient, ID or accession
studies-search-hint = Words in any order, beginnings are enough: “garcia ana”.
studies-date-from = Study date from
studies-date-to = to
studies-modality = Modality
studies-modality-any = Any
studies-search-submit = Search
studies-search-clear = Clear search
studies-caption = Studies, newest first
studies-col-preview = Preview
studies-col-patient = Patient
studies-col-id = Patient ID
studies-col-birth = Birth date
studies-col-date = Study date
studies-col-modality = Modality
studies-col-description = Description
studies-col-images = Images
studies-no-name = (no name)
studies-count = { $count ->
    [0] No studies
    [one] One study
   *[other] { $shown } studies
  }
studies-range = { $first }–{ $last } of { $total }
studies-empty = No studies yet. Images that devices send, or that you upload, appear here.
studies-no-match = No studies match this search.
studies-pages = Pages
studies-prev = Previous
studies-next = Next
studies-page-of = Page { $page } of { $pages }

## Study view
study-back = All studies
study-not-found-title = Study not found
study-not-found = This study does not exist, or it belongs to another clinic.
study-toolbar = Images
study-select-all = Select all
study-select-none = Clear selection
study-selected-none = No images selected: sending sends the whole study.
study-selected-one = One image selected
study-selected-many = { $count } images selected
study-send-to = Send to
study-send-patient = Send to patient
study-series-heading = Series { $number }
study-series-unnumbered = Series
study-image = Image { $number }
study-select-image = Select image { $number }
study-view-image = View image
study-view-cine = Play cine
study-view-document = Open
study-cine-badge = { $frames } frames
study-kind-report = Report
study-kind-pdf = PDF
study-kind-document = Document
study-no-images = This study has no images yet.
study-tabs = Study details
study-tab-info = Info
study-tab-shared = Shared
study-not-shared = Not shared yet
study-not-shared-help = When the study is sent to the patient, the date and the contact it went to appear here.
study-patient = Patient
study-patient-name = Name
study-patient-id = Patient ID
study-birth-date = Birth date
study-sex = Sex
study-details = Study
study-date = Date
study-accession = Accession number
study-id = Study ID
study-description = Description
study-referring = Referring physician
study-modalities = Modalities
study-series-count = { $count ->
    [one] One series
   *[other] { $shown } series
  }
study-images-count = { $count ->
    [0] No images
    [one] One image
   *[other] { $shown } images
  }
study-received = Received
study-contacts = Patient contacts in the images
study-contacts-none = No email address or phone number was found in the images.
sex-f = Female
sex-m = Male
sex-o = Other
contact-email = Email
contact-phone = Phone

## Image viewer
viewer-close = Close
viewer-play = Play
viewer-pause = Pause
viewer-frame = Frame { $n } of { $total }
viewer-prev = Previous image
viewer-next = Next image
viewer-error = This image could not be shown.
viewer-document = Reports and documents can't be shown here yet.

## Send to patient
send-title = Send to patient
send-selected = { $count ->
    [0] No images were selected: the whole study will be sent.
    [one] One image will be sent.
   *[other] { $shown } images will be sent.
  }
send-whole-study = { $count ->
    [one] The whole study (one image) will be sent.
   *[other] The whole study ({ $shown } images) will be sent.
  }
send-back = Back to the study
send-cancel = Cancel
send-contacts-label = Patient's email and/or mobile phone
send-contacts-help = For example: patient@example.org, 612 345 678. Separate an email and a phone number with a comma.
send-language-label = Language of the messages and of the patient's page
send-submit = Send link
send-email-local = Email is not set up on this server: the email will be kept on the Outbox page (Admin → Outbox), not sent to the patient.
send-sms-local = Text messages are not set up on this server: the SMS will be kept on the Outbox page (Admin → Outbox), not sent to the patient.
send-active = This study's link is active: it was sent { $sent } to { $contacts }. Sending again re-sends the same link to the same contacts and keeps it working until { $until }.
send-resend-same = Resend the same link
send-new-link-heading = Or send a new link
send-new-link-help = Different contacts always get a new link of their own.
send-expired = The link sent for this study expired on { $when }. An expired link can't be sent again.
send-revoked = The link sent for this study was revoked on { $when }.
send-new-link = Send a new link
send-error-images = The chosen images are no longer in this study. Choose them again from the study.
send-preview-email = Email: { $email }
send-preview-phone = Phone: { $phone }

## A link's status page and the Shared tab
share-title = Link to the patient
share-preparing = Preparing the images for the patient: { $done } of { $total } ready…
share-handed-over = The messages were handed over for delivery. The link works until { $until }.
share-resent = The same link was sent again. It now works until { $until }.
share-failed = Nothing could be sent: { $reason }
share-show-link = Show the patient's link
share-link-help = The patient's link, to read out or paste if a message doesn't arrive. Don't post it anywhere public.
share-not-found-title = Link not found
share-not-found = This link does not exist or belongs to another clinic.
share-cannot-resend-title = This link can't be resent
share-cannot-resend = The link has expired, was revoked, or is still being prepared. Send a new link from Send to patient.
shared-last-sent = Last sent { $when }
shared-link-heading = Link of { $when }
shared-status = Status
shared-active-until = Active until { $when }
shared-expired = Expired on { $when }
shared-revoked = Revoked on { $when }
shared-failed = Could not be prepared
shared-preparing = Being prepared
shared-created = Created
shared-by = By
shared-images = Images
shared-contacts = Sent to
shared-protection = Protection
shared-password = The patient sets a password: some of what was shared could not be fully de-identified
shared-link-code = The clinic's patient link code
shared-opened-label = Opened
shared-opened = First { $first }, last { $last } ({ $views ->
    [one] { $views } view
   *[other] { $views } views
  })
shared-not-opened = Not opened yet
shared-downloads = Downloads
shared-send-initial = Sent { $when } by { $by }
shared-send-resend = Resent { $when } by { $by }
shared-sms = SMS
shared-resend = Resend
shared-resend-expired = Resend is not available: the link has expired or was revoked. Use Send to patient to send a new link.
shared-resend-preparing = Resend becomes available when the link is ready.
shared-revoke = Revoke…
shared-revoke-confirm-text = The patient will no longer be able to open this link. This can't be undone.
shared-revoke-confirm = Revoke the link
delivery-queued = Queued
delivery-sending = Sending
delivery-sent = Sent
delivery-delivered = Delivered
delivery-failed = Failed
delivery-retrying = Will retry: { $error }

## Dates, times and numbers
fmt-date = { $month } { $day }, { $year }
fmt-time = { $h12 }:{ $min } { $ampm }
fmt-datetime = { $date }, { $time } { $zone }
fmt-am = AM
fmt-pm = PM
fmt-month-1 = Jan
fmt-month-2 = Feb
fmt-month-3 = Mar
fmt-month-4 = Apr
fmt-month-5 = May
fmt-month-6 = Jun
fmt-month-7 = Jul
fmt-month-8 = Aug
fmt-month-9 = Sep
fmt-month-10 = Oct
fmt-month-11 = Nov
fmt-month-12 = Dec

## Clinic settings (admin)
nav-settings = Settings
settings-title = Clinic settings
settings-intro = These settings apply to the whole clinic. Patients see the clinic's name, contact details and logo on their page and in the messages they receive.
settings-saved = Settings saved.
settings-errors = Some settings need fixing. Nothing was saved.
settings-save = Save settings
settings-optional = optional
settings-section-clinic = Clinic
settings-clinic-name = Clinic name
settings-phone = Phone
settings-email = Email
settings-website = Website
settings-logo = Logo
settings-logo-help = PNG or JPEG, up to 512 KB. It appears on patients' pages and in emails.
settings-logo-current = Current logo
settings-logo-none = No logo yet.
settings-logo-remove = Remove the logo
settings-section-links = Patients' links
settings-lifetime = Patient links expire after
settings-lifetime-days = { $days ->
    [one] { $days } day
   *[other] { $days } days
  }
settings-link-code = Patient link code
settings-link-code-help = When set, everyone who opens a patient link must enter this code. Changing it keeps existing links on the code they were created with; removing it removes the prompt from existing links.
settings-link-code-set = A code is set.
settings-link-code-not-set = No code is set.
settings-link-code-new = New code
settings-link-code-new-help = 6 to 64 characters. Leave empty to keep the current setting. The code is never shown again.
settings-link-code-remove = Remove the code
settings-landing = What patients' pages may show besides the images
settings-landing-date = The exam's date
settings-landing-description = The exam's description
settings-section-language = Languages and time
settings-language = Default language
settings-language-browser = Each browser's language
settings-language-en = English
settings-language-es = Español
settings-language-help = Staff who choose a language in the header keep their choice.
settings-time-zone = Time zone
settings-time-zone-help = A name such as Europe/Madrid or America/Mexico_City. Times recorded by StudyLink are shown in this zone; exam dates and times stay as the device recorded them.
settings-country-code = Country calling code
settings-country-code-help = Used for phone numbers typed without + (for example 34 for Spain).
settings-country-code-shown = +{ $code } ({ $country })
settings-section-deid = De-identification
settings-deid-help = How images are de-identified before patients receive them. The defaults follow the DICOM Basic profile.
settings-deid-dates = Dates inside the images
settings-deid-dates-remove = Remove them
settings-deid-dates-full = Keep them
settings-deid-dates-shift = Shift them by a random number of days per link
settings-deid-characteristics = Keep patient characteristics (age, sex, height, weight)
settings-deid-device = Keep the device's identity
settings-deid-descriptors = Keep descriptions, after removing identifying text
settings-deid-private = Keep private attributes known to be safe
settings-error-name = Enter the clinic's name (up to 120 characters).
settings-error-phone = Enter a phone number with digits, spaces, +, - or parentheses (up to 40 characters).
settings-error-email = Enter an email address like name@clinic.example.
settings-error-website = Enter a web address starting with https:// or http://.
settings-error-lifetime = Choose 7, 30, 90, 180 or 365 days.
settings-error-time-zone = Unknown time zone. Use a name such as Europe/Madrid.
settings-error-country-code = Enter 1 to 3 digits, such as 34.
settings-error-language = Choose a language from the list.
settings-error-dates = Choose what happens to dates.
settings-error-link-code = The code must have 6 to 64 characters.
settings-error-link-code-both = Either enter a new code or remove it, not both.
settings-error-logo-too-big = The logo is larger than 512 KB.
settings-error-logo-type = The logo must be a PNG or JPEG image.
country-1 = United States, Canada
country-33 = France
country-34 = Spain
country-39 = Italy
country-44 = United Kingdom
country-49 = Germany
country-51 = Peru
country-52 = Mexico
country-53 = Cuba
country-54 = Argentina
country-56 = Chile
country-57 = Colombia
country-58 = Venezuela
country-212 = Morocco
country-351 = Portugal
country-376 = Andorra
country-502 = Guatemala
country-503 = El Salvador
country-504 = Honduras
country-505 = Nicaragua
country-506 = Costa Rica
country-507 = Panama
country-591 = Bolivia
country-593 = Ecuador
country-595 = Paraguay
country-598 = Uruguay

# Outbox page and API (api/)
outbox-nav = Outbox
outbox-title = Outbox
outbox-intro = The clinic's latest messages to patients, newest first. Recipients are shown in full so that a message can be delivered by hand.
outbox-email-local = Email is not configured: messages are kept here and in the server's outbox folder, not sent to patients. Deliver them yourself (copy the message below) or ask whoever runs the server to set up email.
outbox-sms-local = Text messages are not configured: messages are kept here and in the server's outbox folder, not sent to patients. Deliver them yourself (copy the message below) or ask whoever runs the server to set up an SMS provider.
outbox-empty = No messages yet.
outbox-count = { $count ->
    [one] One message
   *[other] { $shown } messages
  }
outbox-col-time = Queued
outbox-col-channel = Channel
outbox-col-recipient = Recipient
outbox-col-status = Status
outbox-col-share = Link
outbox-col-message = Message
outbox-show-message = Show the message
outbox-subject = Subject:
outbox-unreadable = This message can't be shown.
outbox-attempts = { $count ->
    [0] not tried yet
    [one] 1 attempt
   *[other] { $count } attempts
  }
api-error-study-not-found = There is no study with this Study Instance UID in your clinic.
api-error-share-not-found = There is no such link in your clinic.
api-error-expired = This link has expired or was revoked, so it can't be sent again. Send the study again to create a new link.
api-error-not-ready = The link is still being prepared. Try again when it is ready.
api-error-unknown-instance = Some of the chosen images are not in this study.
api-error-empty = Nothing to send: no images were chosen.
api-error-language = The language must be "es" or "en".
api-error-admin-only = Only administrators of the clinic (or an API key) can do this.
api-error-unknown-field = This field does not exist.
api-error-type = This field has the wrong type.
api-error-contacts-missing = Enter the patient's email address, mobile phone number, or both separated by a comma.
