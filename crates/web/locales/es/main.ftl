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
home-instances = { $count ->
    [0] Todavía no hay imágenes guardadas.
    [one] Una imagen guardada.
   *[other] { $count } imágenes guardadas.
  }
home-coming-soon = Pronto verá aquí la lista de estudios, la búsqueda y el envío a pacientes. Las imágenes que envían los equipos, o que usted sube, ya se guardan de forma segura.

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
