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
nav-outbox = Bandeja de salida
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

## Enviar a paciente
send-title = Enviar a paciente
send-selected = { $count ->
    [0] No se seleccionó ninguna imagen: se enviará el estudio completo.
    [one] Se enviará una imagen.
   *[other] Se enviarán { $shown } imágenes.
  }
send-whole-study = { $count ->
    [one] Se enviará el estudio completo (una imagen).
   *[other] Se enviará el estudio completo ({ $shown } imágenes).
  }
send-back = Volver al estudio
send-cancel = Cancelar
send-contacts-label = Email y/o teléfono móvil del paciente
send-contacts-help = Por ejemplo: paciente@ejemplo.es, 612 345 678. Separe el email y el teléfono con una coma.
send-language-label = Idioma de los mensajes y de la página del paciente
send-submit = Enviar enlace
send-email-local = El email no está configurado en este servidor: el mensaje se guardará en la página Bandeja de salida (Administración → Bandeja de salida), no se enviará al paciente.
send-sms-local = Los SMS no están configurados en este servidor: el SMS se guardará en la página Bandeja de salida (Administración → Bandeja de salida), no se enviará al paciente.
send-active = El enlace de este estudio está activo: se envió el { $sent } a { $contacts }. Enviarlo de nuevo reenvía el mismo enlace a los mismos contactos y lo mantiene activo hasta el { $until }.
send-resend-same = Reenviar el mismo enlace
send-new-link-heading = O enviar un enlace nuevo
send-new-link-help = Otros contactos reciben siempre un enlace nuevo propio.
send-expired = El enlace enviado para este estudio caducó el { $when }. Un enlace caducado no se puede reenviar.
send-revoked = El enlace enviado para este estudio se revocó el { $when }.
send-new-link = Enviar un enlace nuevo
send-error-images = Las imágenes elegidas ya no están en este estudio. Vuelva a elegirlas desde el estudio.
send-preview-email = Email: { $email }
send-preview-phone = Teléfono: { $phone }

## Estado de un enlace y pestaña Compartido
share-title = Enlace al paciente
share-preparing = Preparando las imágenes para el paciente: { $done } de { $total } listas…
share-handed-over = Los mensajes se entregaron para su envío. El enlace funciona hasta el { $until }.
share-resent = Se volvió a enviar el mismo enlace. Ahora funciona hasta el { $until }.
share-failed = No se pudo enviar nada: { $reason }
share-show-link = Mostrar el enlace del paciente
share-link-help = El enlace del paciente, para dictarlo o pegarlo si un mensaje no llega. No lo publique en ningún sitio.
share-not-found-title = Enlace no encontrado
share-not-found = Este enlace no existe o pertenece a otra clínica.
share-cannot-resend-title = Este enlace no se puede reenviar
share-cannot-resend = El enlace caducó, se revocó o todavía se está preparando. Envíe un enlace nuevo desde Enviar a paciente.
shared-last-sent = Último envío: { $when }
shared-link-heading = Enlace del { $when }
shared-status = Estado
shared-active-until = Activo hasta el { $when }
shared-expired = Caducó el { $when }
shared-revoked = Revocado el { $when }
shared-failed = No se pudo preparar
shared-preparing = En preparación
shared-created = Creado
shared-by = Por
shared-images = Imágenes
shared-contacts = Enviado a
shared-protection = Protección
shared-password = El paciente crea una contraseña: parte de lo compartido no se pudo anonimizar por completo
shared-link-code = El código de enlace de la clínica
shared-opened-label = Abierto
shared-opened = Primera vez { $first }, última { $last } ({ $views ->
    [one] { $views } visita
   *[other] { $views } visitas
  })
shared-not-opened = Aún no abierto
shared-downloads = Descargas
shared-send-initial = Enviado el { $when } por { $by }
shared-send-resend = Reenviado el { $when } por { $by }
shared-sms = SMS
shared-resend = Reenviar
shared-resend-expired = No se puede reenviar: el enlace caducó o se revocó. Use Enviar a paciente para enviar un enlace nuevo.
shared-resend-preparing = Podrá reenviarse cuando el enlace esté listo.
shared-revoke = Revocar…
shared-revoke-confirm-text = El paciente ya no podrá abrir este enlace. No se puede deshacer.
shared-revoke-confirm = Revocar el enlace
delivery-queued = En cola
delivery-sending = Enviando
delivery-sent = Enviado
delivery-delivered = Entregado
delivery-failed = Falló
delivery-retrying = Se reintentará: { $error }

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

## Configuración de la clínica (administración)
nav-settings = Configuración
settings-title = Configuración de la clínica
settings-intro = Esta configuración se aplica a toda la clínica. Los pacientes ven el nombre, los datos de contacto y el logotipo de la clínica en su página y en los mensajes que reciben.
settings-saved = Configuración guardada.
settings-errors = Hay ajustes que corregir. No se ha guardado nada.
settings-save = Guardar configuración
settings-optional = opcional
settings-section-clinic = Clínica
settings-clinic-name = Nombre de la clínica
settings-phone = Teléfono
settings-email = Correo electrónico
settings-website = Sitio web
settings-logo = Logotipo
settings-logo-help = PNG o JPEG, hasta 512 KB. Aparece en la página del paciente y en los correos.
settings-logo-current = Logotipo actual
settings-logo-none = Aún no hay logotipo.
settings-logo-remove = Quitar el logotipo
settings-section-links = Enlaces de pacientes
settings-lifetime = Los enlaces de pacientes caducan a los
settings-lifetime-days = { $days ->
    [one] { $days } día
   *[other] { $days } días
  }
settings-link-code = Código de enlace del paciente
settings-link-code-help = Si hay un código, todos los que abran un enlace de paciente deben introducirlo. Al cambiarlo, los enlaces existentes siguen con el código con el que se crearon; al quitarlo, los enlaces existentes dejan de pedirlo.
settings-link-code-set = Hay un código configurado.
settings-link-code-not-set = No hay ningún código.
settings-link-code-new = Código nuevo
settings-link-code-new-help = De 6 a 64 caracteres. Déjelo vacío para no cambiar nada. El código no se vuelve a mostrar.
settings-link-code-remove = Quitar el código
settings-landing = Qué puede mostrar la página del paciente además de las imágenes
settings-landing-date = La fecha del examen
settings-landing-description = La descripción del examen
settings-section-language = Idiomas y hora
settings-language = Idioma predeterminado
settings-language-browser = El idioma de cada navegador
settings-language-en = English
settings-language-es = Español
settings-language-help = El personal que elige un idioma en la cabecera conserva su elección.
settings-time-zone = Zona horaria
settings-time-zone-help = Un nombre como Europe/Madrid o America/Mexico_City. Las horas que registra StudyLink se muestran en esta zona; las fechas y horas del examen se muestran tal como las registró el equipo.
settings-country-code = Prefijo telefónico del país
settings-country-code-help = Se usa para los teléfonos escritos sin + (por ejemplo, 34 para España).
settings-country-code-shown = +{ $code } ({ $country })
settings-section-deid = Anonimización
settings-deid-help = Cómo se anonimizan las imágenes antes de entregarlas a los pacientes. Los valores predeterminados siguen el perfil básico de DICOM.
settings-deid-dates = Fechas dentro de las imágenes
settings-deid-dates-remove = Eliminarlas
settings-deid-dates-full = Conservarlas
settings-deid-dates-shift = Desplazarlas un número de días aleatorio en cada enlace
settings-deid-characteristics = Conservar las características del paciente (edad, sexo, altura, peso)
settings-deid-device = Conservar la identidad del equipo
settings-deid-descriptors = Conservar las descripciones, tras quitar el texto identificativo
settings-deid-private = Conservar los atributos privados que se sabe que son seguros
settings-error-name = Escriba el nombre de la clínica (hasta 120 caracteres).
settings-error-phone = Escriba un teléfono con cifras, espacios, +, - o paréntesis (hasta 40 caracteres).
settings-error-email = Escriba una dirección de correo como nombre@clinica.example.
settings-error-website = Escriba una dirección web que empiece por https:// o http://.
settings-error-lifetime = Elija 7, 30, 90, 180 o 365 días.
settings-error-time-zone = Zona horaria desconocida. Use un nombre como Europe/Madrid.
settings-error-country-code = Escriba de 1 a 3 cifras, como 34.
settings-error-language = Elija un idioma de la lista.
settings-error-dates = Elija qué hacer con las fechas.
settings-error-link-code = El código debe tener de 6 a 64 caracteres.
settings-error-link-code-both = Escriba un código nuevo o quítelo, pero no ambas cosas.
settings-error-logo-too-big = El logotipo ocupa más de 512 KB.
settings-error-logo-type = El logotipo debe ser una imagen PNG o JPEG.
country-1 = Estados Unidos, Canadá
country-33 = Francia
country-34 = España
country-39 = Italia
country-44 = Reino Unido
country-49 = Alemania
country-51 = Perú
country-52 = México
country-53 = Cuba
country-54 = Argentina
country-56 = Chile
country-57 = Colombia
country-58 = Venezuela
country-212 = Marruecos
country-351 = Portugal
country-376 = Andorra
country-502 = Guatemala
country-503 = El Salvador
country-504 = Honduras
country-505 = Nicaragua
country-506 = Costa Rica
country-507 = Panamá
country-591 = Bolivia
country-593 = Ecuador
country-595 = Paraguay
country-598 = Uruguay

# Outbox page and API (api/)
outbox-nav = Bandeja de salida
outbox-title = Bandeja de salida
outbox-intro = Los últimos mensajes de la clínica a pacientes, del más reciente al más antiguo. Los destinatarios se muestran completos para poder entregar un mensaje a mano.
outbox-email-local = El correo electrónico no está configurado: los mensajes se guardan aquí y en la carpeta de salida del servidor, no se envían a los pacientes. Entréguelos usted (copie el mensaje de abajo) o pida a quien administra el servidor que configure el correo.
outbox-sms-local = Los mensajes de texto no están configurados: los mensajes se guardan aquí y en la carpeta de salida del servidor, no se envían a los pacientes. Entréguelos usted (copie el mensaje de abajo) o pida a quien administra el servidor que configure un proveedor de SMS.
outbox-empty = Todavía no hay mensajes.
outbox-count = { $count ->
    [one] Un mensaje
   *[other] { $shown } mensajes
  }
outbox-col-time = En cola desde
outbox-col-channel = Canal
outbox-col-recipient = Destinatario
outbox-col-status = Estado
outbox-col-share = Enlace
outbox-col-message = Mensaje
outbox-show-message = Ver el mensaje
outbox-subject = Asunto:
outbox-unreadable = Este mensaje no se puede mostrar.
outbox-attempts = { $count ->
    [0] sin intentos todavía
    [one] 1 intento
   *[other] { $count } intentos
  }
api-error-study-not-found = No hay ningún estudio con este Study Instance UID en su clínica.
api-error-share-not-found = No existe ese enlace en su clínica.
api-error-expired = Este enlace ha caducado o fue revocado, así que no se puede volver a enviar. Envíe el estudio de nuevo para crear un enlace nuevo.
api-error-not-ready = El enlace todavía se está preparando. Vuelva a intentarlo cuando esté listo.
api-error-unknown-instance = Algunas de las imágenes elegidas no son de este estudio.
api-error-empty = No hay nada que enviar: no se eligió ninguna imagen.
api-error-language = El idioma debe ser "es" o "en".
api-error-admin-only = Solo los administradores de la clínica (o una clave de API) pueden hacer esto.
api-error-unknown-field = Este campo no existe.
api-error-type = Este campo tiene un tipo incorrecto.
api-error-contacts-missing = Escriba el correo electrónico del paciente, su número de móvil, o ambos separados por una coma.
