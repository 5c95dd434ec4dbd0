# The patient landing page (/p/{token}). Owned with src/patient/.
# Plain words for patients: no jargon; "DICOM" always comes with an explanation.
# Ids must be the same in en/patient.ftl and es/patient.ftl.

patient-title = Your images
patient-intro = Tap an image to see it larger. You can download each file, or everything at once.
patient-exam-date = Exam of { $date }
patient-download-all = Download all
patient-downloads-of = Downloads for { $item }
patient-item-image = Image { $n } of { $total }
patient-item-cine = Video { $n } of { $total }
patient-item-document = Document { $n } of { $total }
patient-item-other = File { $n } of { $total }
patient-dl-jpg = Picture (JPEG)
patient-dl-mp4 = Video (MP4)
patient-dl-dcm = For doctors (DICOM)
patient-dl-doc = Document
patient-about-title = About these files
patient-about-jpg = Opens on any phone or computer.
patient-about-mp4 = The moving images, as a video any phone or computer plays.
patient-about-dcm = The original medical file, with your name and other personal details removed. Give it to a doctor, or open it with a DICOM viewer.
patient-expires = This link works until { $date }. After that, ask { $clinic } for a new one.
patient-phone = Phone
patient-email = Email

## Viewer
patient-viewer-close = Close
patient-viewer-prev = Previous
patient-viewer-next = Next
patient-viewer-zoom-in = Zoom in
patient-viewer-zoom-out = Zoom out
patient-viewer-reset = Fit to screen
patient-viewer-help = Pinch or scroll to zoom, drag to move, double-tap to fit.
patient-viewer-downloads = Download this file

## Password and clinic code
patient-gate-create-title = Choose a password
patient-gate-create-intro = Some of these files may still show personal details, so this page needs a password. Choose one now: anyone who opens this link later will need it. Keep it somewhere safe.
patient-gate-enter-title = Enter the password
patient-gate-enter-intro = This page is protected by the password chosen when the link was first opened.
patient-gate-code-title = Enter the clinic's code
patient-gate-code-intro = { $clinic } protects its patient links with a code. If you don't have it, ask the clinic.
patient-gate-code = Clinic code
patient-gate-password = Password
patient-gate-new-password = New password
patient-gate-confirm = Repeat the password
patient-gate-rule = At least 8 characters, not only numbers, and not an easy one like "password123".
patient-gate-show = Show what I type
patient-gate-submit = Continue
patient-gate-fill-in = Please fill in every field.
patient-gate-empty = Please type the password.
patient-gate-check = Check the password and try again.
patient-gate-wrong-password = That password is not right. { $left ->
    [one] One more wrong try locks this link for 15 minutes.
   *[other] { $left } tries left before this link locks for 15 minutes.
  }
patient-gate-wrong-code = That code is not right. { $left ->
    [one] One more wrong try locks this link for 15 minutes.
   *[other] { $left } tries left before this link locks for 15 minutes.
  }
patient-gate-wrong-either = The code or the password is not right. { $left ->
    [one] One more wrong try locks this link for 15 minutes.
   *[other] { $left } tries left before this link locks for 15 minutes.
  }
patient-gate-too-short = The password needs at least 8 characters.
patient-gate-too-long = That password is too long.
patient-gate-only-digits = Use some letters too, not only numbers.
patient-gate-too-common = That password is too easy to guess. Please choose another one.
patient-gate-clinic-name = Please don't use the clinic's name as the password.
patient-gate-mismatch = The two passwords are not the same.
patient-gate-taken = Someone with this link has just chosen a password. Please enter that password.
patient-gate-expired-form = The form had expired. Please try again.
patient-locked-title = Too many attempts
patient-locked = There were too many wrong attempts, so this link is locked for a while. Try again after { $time }.
patient-try-again = Try again

## Messages
patient-notfound-title = Link not found
patient-notfound = This link doesn't work. Check that you opened the whole link from your message, or ask the clinic that sent it.
patient-expired-title = This link has expired
patient-expired = This link has expired — please contact { $clinic } to get a new one.
patient-preparing-title = Your images are being prepared
patient-preparing = This takes a moment. The page will refresh by itself.
patient-videos-pending = The videos are still being prepared: until then they show their first picture. The page will update by itself.
patient-video-pending = Video in a moment
patient-checks-pending = Some images are still being prepared for you. They will appear here in a moment; the page will update by itself.
patient-item-checking = Being prepared…
patient-item-withheld = Not available: please ask the clinic
patient-refresh = Refresh now
patient-error-title = Something went wrong
patient-error = Please try again in a moment.

## The page inside the ZIP
patient-offline-intro = These are the images { $clinic } shared with you. This page works without internet: keep the whole folder together.
patient-offline-saved = Downloaded on { $date }.
