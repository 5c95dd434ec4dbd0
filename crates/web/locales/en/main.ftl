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

## Send to patient (placeholder)
send-title = Send to patient
send-coming-soon = Sending a link to the patient arrives in the next version of StudyLink. Nothing was sent.
send-selected = { $count ->
    [0] No images were selected: the whole study would be sent.
    [one] One image was selected.
   *[other] { $shown } images were selected.
  }
send-back = Back to the study

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
