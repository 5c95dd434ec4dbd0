## Campo de contacto del diálogo de envío (personal de la clínica).

contact-error-empty = Escriba el correo electrónico del paciente, su número de móvil, o ambos separados por una coma.
contact-error-email = «{ $token }» no es una dirección de correo electrónico. Use la forma nombre@ejemplo.com, sin espacios.
contact-error-phone = «{ $token }» no es un número de teléfono. Escriba el número como se marca en el país de la clínica (p. ej. 612 345 678 para { $code }), o empiece por + y el código del país.
contact-error-unrecognized = «{ $token }» no es ni un correo electrónico ni un número de teléfono. Separe el correo y el teléfono con una coma.
contact-warning-sms-only = Solo un número de teléfono: añadir un correo electrónico ayuda a garantizar la entrega.
contact-warning-email-typo = ¿Quería decir { $suggestion } en lugar de { $entered }?
contact-warning-not-mobile = { $phone } no parece un número de móvil: es posible que el mensaje de texto no llegue.

## Correo al paciente. Solo el nombre de la clínica, el enlace y la fecha de caducidad: nunca datos del paciente.

email-subject = Sus imágenes de { $clinic }
email-heading = Sus imágenes están disponibles
email-intro = { $clinic } ha compartido sus imágenes con usted. Puede verlas y descargarlas con el botón de abajo, desde el móvil o el ordenador.
email-intro-text = { $clinic } ha compartido sus imágenes con usted. Puede verlas y descargarlas en esta dirección, desde el móvil o el ordenador.
email-button = Ver mis imágenes
email-link-fallback = Si el botón no funciona, copie esta dirección en su navegador:
email-expiry = El enlace funciona hasta el { $date }.
email-contact = ¿Dudas? Contacte con { $clinic }:
email-contact-phone = Teléfono: { $phone }
email-contact-email = Correo: { $email }
email-footer = Recibe este mensaje porque { $clinic } indicó esta dirección para usted. No lo reenvíe: cualquiera con el enlace puede ver sus imágenes.

## SMS al paciente: debe caber en 160 caracteres GSM-7 con un enlace largo.
## Las vocales con tilde (á, í, ó, ú) no existen en GSM-7: el renderizador las
## sustituye si así el mensaje cabe en un solo SMS.

sms-body = { $clinic }: sus imágenes están en { $link } (hasta el { $date })
sms-body-short = { $clinic }: sus imágenes { $link }
