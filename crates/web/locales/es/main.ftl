# Páginas del personal de StudyLink — español.
# Los identificadores deben ser los mismos en todos los locales/*/main.ftl.

app-name = StudyLink

## Cabecera y navegación
nav-label = Principal
nav-studies = Estudios
nav-upload = Subir
nav-users = Usuarios
nav-api-keys = Claves de API
nav-signed-in-as = Sesión iniciada como
nav-sign-out = Cerrar sesión

## Errores
error-back-home = Volver a StudyLink
error-forbidden-title = No permitido
error-admin-only = Solo los administradores de la clínica pueden abrir esta página.
error-csrf = Este formulario caducó o no proviene de StudyLink. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-csrf-login = Este formulario de inicio de sesión caducó. Recargue la página e inténtelo de nuevo.
error-bad-request-title = La solicitud no es válida
error-bad-form = El formulario estaba incompleto. Vuelva atrás e inténtelo de nuevo.

## Inicio de sesión
login-title = Iniciar sesión
login-submit = Entrar
login-forgot = ¿Olvidó su contraseña? Pida una nueva a un administrador de su clínica.
login-failed = Correo o contraseña incorrectos.
login-too-many = Demasiados intentos de inicio de sesión. Vuelva a intentarlo en { $minutes ->
    [one] un minuto
   *[other] { $minutes } minutos
  }.

## Campos y reglas de contraseña
form-email = Correo electrónico
form-password = Contraseña
form-password-confirm = Repita la contraseña
form-email-invalid = Escriba un correo electrónico válido.
password-rule = Al menos 12 caracteres. Unas cuantas palabras sin relación entre sí son una buena contraseña.
password-too-short = La contraseña debe tener al menos 12 caracteres.
password-too-long = La contraseña es demasiado larga.
password-mismatch = Las dos contraseñas no coinciden.

## Primer administrador
setup-title = Configurar StudyLink
setup-intro = Cree la cuenta del primer administrador. Después podrá añadir al resto del personal.
setup-submit = Crear administrador y entrar
setup-invalid-title = Este enlace de configuración ya no funciona
setup-invalid-body = Ya se usó o caducó a las 24 horas. Si StudyLink aún no tiene usuarios, al reiniciar el servidor se muestra un enlace nuevo; si no, pida a un administrador que le dé de alta o ejecute en el servidor: studylink user add CORREO --admin

## Estudios (inicio)
home-upload = Subir estudios

## Usuarios
users-title = Usuarios
users-role = Rol
users-created-at = Creado
users-disabled = desactivado
users-created = Usuario { $email } creado. Su contraseña:
users-password-once = Cópiela ahora y entréguesela en privado: no se volverá a mostrar.
users-add = Añadir un usuario
users-add-submit = Añadir usuario
users-add-help = StudyLink genera la contraseña y la muestra una sola vez.
users-email-taken = Ya existe un usuario con ese correo.
role-admin = Administrador
role-staff = Personal

## Claves de API
keys-title = Claves de API
keys-intro = Las claves permiten que otros sistemas (PACS, scripts) envíen y consulten estudios de esta clínica. Trátelas como contraseñas.
keys-none = Todavía no hay claves de API.
keys-name = Nombre
keys-name-placeholder = p. ej. PACS de la sala de informes
keys-name-invalid = Dé a la clave un nombre de hasta 100 caracteres.
keys-prefix = Clave
keys-status = Estado
keys-revoked-at = Revocada el { $when }
keys-revoke = Revocar
keys-revoke-confirm = ¿Revocar la clave «{ $name }»? Los sistemas que la usan dejarán de funcionar de inmediato.
keys-add = Crear una clave
keys-add-submit = Crear clave
keys-created = Clave «{ $name }» creada:
keys-once = Cópiela ahora en el otro sistema: no se volverá a mostrar.

## Subir
upload-title = Subir estudios
upload-intro = Añada archivos DICOM desde un disco, una memoria USB u otro sistema. Los estudios que suba aparecen junto a los que envían los equipos.
upload-drop = Suelte aquí archivos o carpetas
upload-or = o
upload-pick-files = Elegir archivos
upload-pick-folder = Elegir una carpeta
upload-accepts = Archivos DICOM, carpetas completas (p. ej. el CD de un paciente) y archivos ZIP.
upload-col-file = Archivo
upload-col-status = Resultado
upload-status-waiting = En espera
upload-status-sending = Subiendo…
upload-status-processing = Comprobando…
upload-status-stored = Guardado
upload-status-duplicate = Ya estaba guardado
upload-status-refused = Rechazado
upload-status-error = Falló
upload-done = Terminado
upload-leave-warning = Todavía se están subiendo archivos. ¿Salir de todos modos?
upload-reason-not-dicom = No es un archivo DICOM.
upload-reason-malformed = Archivo DICOM dañado o ilegible.
upload-reason-missing = Al archivo DICOM le falta información obligatoria.
upload-reason-too-large = El archivo supera el tamaño permitido.
upload-reason-server = El servidor no pudo guardarlo. Inténtelo más tarde.
upload-reason-empty = El archivo está vacío.
upload-reason-network = La subida se interrumpió. Compruebe la conexión e inténtelo de nuevo.
upload-reason-signed-out = Su sesión terminó. Vuelva a iniciar sesión y suba los archivos restantes.
upload-reason-bad-zip = Archivo ZIP dañado o no compatible.
upload-reason-zip-entry = No se pudo extraer este archivo del ZIP (¿cifrado o compresión no compatible?).
upload-reason-zip-too-many = El archivo ZIP contiene demasiados archivos.
upload-reason-zip-bomb = El archivo ZIP se expande a más datos de los permitidos.
upload-reason-zip-empty = El archivo ZIP no contiene archivos.

## Pantalla Estudios
studies-search-label = Buscar estudios
studies-search-text = Paciente, ID o n.º de acceso
studies-search-hint = Palabras en cualquier orden; basta con el principio: «garcia ana».
studies-date-from = Fecha del estudio desde
studies-date-to = hasta
studies-modality = Modalidad
studies-modality-any = Cualquiera
studies-search-submit = Buscar
studies-search-clear = Borrar la búsqueda
studies-caption = Estudios, los más recientes primero
studies-col-preview = Vista previa
studies-col-patient = Paciente
studies-col-id = ID del paciente
studies-col-birth = Fecha de nacimiento
studies-col-date = Fecha del estudio
studies-col-modality = Modalidad
studies-col-description = Descripción
studies-col-images = Imágenes
studies-no-name = (sin nombre)
studies-count = { $count ->
    [0] Ningún estudio
    [one] Un estudio
   *[other] { $shown } estudios
  }
studies-range = { $first }–{ $last } de { $total }
studies-empty = Todavía no hay estudios. Aquí aparecen las imágenes que envían los equipos o que usted sube.
studies-no-match = Ningún estudio coincide con esta búsqueda.
studies-pages = Páginas
studies-prev = Anterior
studies-next = Siguiente
studies-page-of = Página { $page } de { $pages }

## Vista del estudio
study-back = Todos los estudios
study-not-found-title = Estudio no encontrado
study-not-found = Este estudio no existe o pertenece a otra clínica.
study-toolbar = Imágenes
study-select-all = Seleccionar todo
study-select-none = Quitar la selección
study-selected-none = Ninguna imagen seleccionada: se envía el estudio completo.
study-selected-one = Una imagen seleccionada
study-selected-many = { $count } imágenes seleccionadas
study-send-to = Enviar a
study-send-patient = Enviar a paciente
study-series-heading = Serie { $number }
study-series-unnumbered = Serie
study-image = Imagen { $number }
study-select-image = Seleccionar la imagen { $number }
study-view-image = Ver la imagen
study-view-cine = Reproducir el cine
study-view-document = Abrir
study-cine-badge = { $frames } fotogramas
study-kind-report = Informe
study-kind-pdf = PDF
study-kind-document = Documento
study-no-images = Este estudio todavía no tiene imágenes.
study-tabs = Detalles del estudio
study-tab-info = Información
study-tab-shared = Compartido
study-not-shared = Todavía no se ha compartido
study-not-shared-help = Cuando se envíe el estudio al paciente, aquí aparecerán la fecha y el contacto al que se envió.
study-patient = Paciente
study-patient-name = Nombre
study-patient-id = ID del paciente
study-birth-date = Fecha de nacimiento
study-sex = Sexo
study-details = Estudio
study-date = Fecha
study-accession = Número de acceso
study-id = ID del estudio
study-description = Descripción
study-referring = Médico remitente
study-modalities = Modalidades
study-series-count = { $count ->
    [one] Una serie
   *[other] { $shown } series
  }
study-images-count = { $count ->
    [0] Ninguna imagen
    [one] Una imagen
   *[other] { $shown } imágenes
  }
study-received = Recibido
study-contacts = Contactos del paciente en las imágenes
study-contacts-none = No se encontró ningún correo electrónico ni teléfono en las imágenes.
sex-f = Femenino
sex-m = Masculino
sex-o = Otro
contact-email = Correo electrónico
contact-phone = Teléfono

## Visor de imágenes
viewer-close = Cerrar
viewer-play = Reproducir
viewer-pause = Pausa
viewer-frame = Fotograma { $n } de { $total }
viewer-prev = Imagen anterior
viewer-next = Imagen siguiente
viewer-error = No se pudo mostrar esta imagen.
viewer-document = Los informes y documentos todavía no se pueden ver aquí.

## Enviar a paciente (provisional)
send-title = Enviar a paciente
send-coming-soon = El envío del enlace al paciente llega en la próxima versión de StudyLink. No se ha enviado nada.
send-selected = { $count ->
    [0] No se seleccionó ninguna imagen: se enviaría el estudio completo.
    [one] Se seleccionó una imagen.
   *[other] Se seleccionaron { $shown } imágenes.
  }
send-back = Volver al estudio

## Fechas, horas y números
fmt-date = { $dd }/{ $mm }/{ $year }
fmt-time = { $hh }:{ $min }
fmt-datetime = { $date } { $time } { $zone }
fmt-am = a. m.
fmt-pm = p. m.
fmt-month-1 = ene
fmt-month-2 = feb
fmt-month-3 = mar
fmt-month-4 = abr
fmt-month-5 = may
fmt-month-6 = jun
fmt-month-7 = jul
fmt-month-8 = ago
fmt-month-9 = sept
fmt-month-10 = oct
fmt-month-11 = nov
fmt-month-12 = dic
