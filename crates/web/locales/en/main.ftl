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
home-instances = { $count ->
    [0] No images stored yet.
    [one] One image stored.
   *[other] { $count } images stored.
  }
home-coming-soon = The list of studies, search and sending to patients arrive here soon. Images that devices send, or that you upload, are already stored safely.

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
