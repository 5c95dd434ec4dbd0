# La página del paciente (/p/{token}). Va con src/patient/.
# Palabras sencillas para pacientes: sin jerga; «DICOM» siempre con una explicación.
# Los identificadores deben ser los mismos en en/patient.ftl y es/patient.ftl.

patient-title = Sus imágenes
patient-intro = Toque una imagen para verla más grande. Puede descargar cada archivo o todos a la vez.
patient-exam-date = Examen del { $date }
patient-download-all = Descargar todo
patient-downloads-of = Descargas de { $item }
patient-item-image = Imagen { $n } de { $total }
patient-item-cine = Vídeo { $n } de { $total }
patient-item-document = Documento { $n } de { $total }
patient-item-other = Archivo { $n } de { $total }
patient-dl-jpg = Foto (JPEG)
patient-dl-mp4 = Vídeo (MP4)
patient-dl-dcm = Para médicos (DICOM)
patient-dl-doc = Documento
patient-about-title = Sobre estos archivos
patient-about-jpg = Se abre en cualquier teléfono u ordenador.
patient-about-mp4 = Las imágenes en movimiento, en un vídeo que reproduce cualquier teléfono u ordenador.
patient-about-dcm = El archivo médico original, sin su nombre ni otros datos personales. Entréguelo a un médico o ábralo con un visor DICOM.
patient-expires = Este enlace funciona hasta el { $date }. Después, pida uno nuevo a { $clinic }.
patient-phone = Teléfono
patient-email = Correo electrónico

## Visor
patient-viewer-close = Cerrar
patient-viewer-prev = Anterior
patient-viewer-next = Siguiente
patient-viewer-zoom-in = Acercar
patient-viewer-zoom-out = Alejar
patient-viewer-reset = Ajustar a la pantalla
patient-viewer-help = Pellizque o use la rueda para acercar, arrastre para mover, toque dos veces para ajustar.
patient-viewer-downloads = Descargar este archivo

## Contraseña y código de la clínica
patient-gate-create-title = Elija una contraseña
patient-gate-create-intro = Algunos de estos archivos aún podrían mostrar datos personales, así que esta página necesita una contraseña. Elíjala ahora: quien abra este enlace después la necesitará. Guárdela en un lugar seguro.
patient-gate-enter-title = Escriba la contraseña
patient-gate-enter-intro = Esta página está protegida con la contraseña que se eligió la primera vez que se abrió el enlace.
patient-gate-code-title = Escriba el código de la clínica
patient-gate-code-intro = { $clinic } protege los enlaces de sus pacientes con un código. Si no lo tiene, pídalo a la clínica.
patient-gate-code = Código de la clínica
patient-gate-password = Contraseña
patient-gate-new-password = Contraseña nueva
patient-gate-confirm = Repita la contraseña
patient-gate-rule = Al menos 8 caracteres, no solo números, y que no sea fácil como «password123».
patient-gate-show = Mostrar lo que escribo
patient-gate-submit = Continuar
patient-gate-fill-in = Rellene todos los campos.
patient-gate-empty = Escriba la contraseña.
patient-gate-check = Revise la contraseña e inténtelo de nuevo.
patient-gate-wrong-password = Esa contraseña no es correcta. { $left ->
    [one] Un intento fallido más bloqueará este enlace durante 15 minutos.
   *[other] Quedan { $left } intentos antes de que este enlace se bloquee durante 15 minutos.
  }
patient-gate-wrong-code = Ese código no es correcto. { $left ->
    [one] Un intento fallido más bloqueará este enlace durante 15 minutos.
   *[other] Quedan { $left } intentos antes de que este enlace se bloquee durante 15 minutos.
  }
patient-gate-wrong-either = El código o la contraseña no son correctos. { $left ->
    [one] Un intento fallido más bloqueará este enlace durante 15 minutos.
   *[other] Quedan { $left } intentos antes de que este enlace se bloquee durante 15 minutos.
  }
patient-gate-too-short = La contraseña necesita al menos 8 caracteres.
patient-gate-too-long = Esa contraseña es demasiado larga.
patient-gate-only-digits = Use también alguna letra, no solo números.
patient-gate-too-common = Esa contraseña es muy fácil de adivinar. Elija otra.
patient-gate-clinic-name = No use el nombre de la clínica como contraseña.
patient-gate-mismatch = Las dos contraseñas no coinciden.
patient-gate-taken = Alguien con este enlace acaba de elegir una contraseña. Escriba esa contraseña.
patient-gate-expired-form = El formulario había caducado. Inténtelo de nuevo.
patient-locked-title = Demasiados intentos
patient-locked = Hubo demasiados intentos fallidos y este enlace está bloqueado por un tiempo. Vuelva a intentarlo después de las { $time }.
patient-try-again = Intentar de nuevo

## Mensajes
patient-notfound-title = Enlace no encontrado
patient-notfound = Este enlace no funciona. Compruebe que abrió el enlace completo de su mensaje o pregunte a la clínica que se lo envió.
patient-expired-title = Este enlace ha caducado
patient-expired = Este enlace ha caducado; póngase en contacto con { $clinic } para recibir uno nuevo.
patient-preparing-title = Estamos preparando sus imágenes
patient-preparing = Esto tarda un momento. La página se actualizará sola.
patient-videos-pending = Los vídeos se están preparando todavía: hasta entonces se ve su primera imagen. La página se actualizará sola.
patient-video-pending = Vídeo en un momento
patient-checks-pending = Algunas imágenes se están preparando todavía. Aparecerán aquí en un momento; la página se actualizará sola.
patient-item-checking = Preparándose…
patient-item-withheld = No disponible: consulte a la clínica
patient-refresh = Actualizar ahora
patient-error-title = Algo salió mal
patient-error = Inténtelo de nuevo en un momento.

## La página dentro del ZIP
patient-offline-intro = Estas son las imágenes que { $clinic } compartió con usted. Esta página funciona sin internet: mantenga toda la carpeta junta.
patient-offline-saved = Descargado el { $date }.
