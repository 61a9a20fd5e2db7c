# The directory area: org tree, classes, people and roles, sign-in and account, audit log.
# The kernel's keys (app-name, layout-*, error-*, role-*) live in kernel.ftl and are not repeated here.

## Navigation

nav-home = Home
nav-org = Organisation
nav-people = People
nav-audit = Audit log
nav-account = My account

## Home

home-title = Home
home-greeting = Hello, { $name }
home-units = Units below
home-my-classes = My classes
home-my-children = My children

## Field names (form labels; also the { $field } of error messages)

field-login = Account
field-password = Password
field-code = Code
field-name = Name
field-kind = Type
field-school_code = School code
field-division_code = Division code
field-school_type = School type
field-urban_rural = Urban/rural category
field-parent_id = Parent unit
field-unit_id = Unit
field-school_id = School
field-stage = Stage
field-stages = Stages
field-entry_year = Entry year
field-number = Class number
field-class = Class
field-class_id = Class
field-class_kind = Class type
field-class_name = Class name
field-subject = Subject
field-head = Head teacher
field-person_id = Teacher
field-student = Student
field-relation = Relationship
field-role = Role
field-role_id = Role
field-gender = Gender
field-phone = Mobile phone
field-student_number = Student number
field-staff_number = Staff number
field-place = Unit
field-dates = Dates
field-current_password = Current password
field-new_password = New password
field-confirm_password = Confirm new password
field-scope = Access
field-days = Valid for (days)
field-locale = Language
field-q = Name
field-action = Action
field-outcome = Outcome
field-actor = User
field-content-type = Content-Type
field-body = Request body

## Unit kinds

unit-kind-province = Province
unit-kind-city = City
unit-kind-district = District
unit-kind-school = School
unit-kind-teaching_point = Teaching point
unit-kind-office = Office

## Class kinds

class-kind-administrative = Administrative class
class-kind-teaching = Teaching class
class-kind-elective = Elective group

## Gender and family relations

gender-male = Male
gender-female = Female
relation-father = Father
relation-mother = Mother
relation-grandfather = Grandfather
relation-grandmother = Grandmother
relation-guardian = Other guardian

## Organisation

org-trail = You are here
org-count-schools = Schools
org-count-classes = Classes
org-count-teachers = Teachers
org-count-students = Students
org-children = Units below
org-classes = Classes
org-no-classes = No classes yet.
org-new-class = New class
org-class-name-hint = Optional for administrative classes, which are named from grade and number (e.g. “Grade 3 Class 2”); required for teaching classes and elective groups.
org-create = Create
org-manage = Manage
org-edit = Edit unit
org-save = Save
org-new-child = New unit below
org-code-hint = Schools: the 10-digit school code. Provinces, cities and districts: the 6-digit division code. Optional for teaching points and offices.
org-move = Move unit
org-move-hint = Units, classes and people below this unit move with it, and so do the permissions over them.
org-move-to = New parent unit
org-move-submit = Move
org-move-confirm = Move this unit, with everything below it, under the new parent unit?
org-error-school-code = The school code must be 10 digits.
org-error-division-code = The division code must be 6 digits and may not start with 0.
org-error-school-type = Choose a school type from the list.
org-error-urban-rural = Choose an urban/rural category from the list.
org-error-code-taken = Another unit already has this code.
org-error-kind-placement = A unit of this type cannot sit under the chosen parent (schools go under a bureau, teaching points under a school).
org-error-move-into-self = You cannot move your own unit, nor move a unit under itself or one of its units below.

## Classes

class-teachers = Teachers
class-no-teachers = No teachers assigned yet.
class-assign-teacher = Assign a teacher
class-make-head = Make head teacher (replaces the current one)
class-assign = Assign
class-students = Students
class-no-students = This class has no students yet.
class-error-not-school = Only schools and teaching points have classes.
class-error-stage = This school does not teach that stage (its school type decides the stages).
class-error-taken = The school already has a class of this type with this number, stage and entry year.
class-error-not-teacher = Only current teachers of this school can be assigned.
class-error-not-administrative = Students can only be moved into an administrative class.

## People

people-title = People
people-all-roles = All roles
people-search = Search
people-none = No one matches.
people-prev = Previous
people-next = Next
people-roles = Roles
people-now = present
people-guardians = Parents
people-children = Children
people-error-login = An account name has 3 to 40 letters, digits or . _ - and is not all digits.
people-error-phone = A mobile number has 11 digits and starts with 1.
people-error-taken = “{ $field }” is already in use.
people-error-role-place = This role cannot be held at the chosen unit: school administrators, teachers and students belong to a school, bureau administrators and researchers to a bureau; head teachers are set on the class page and parents by linking them to a student.
people-error-class-school = The chosen class is not in this school.
people-error-not-student = This person is not a current student.

## Sign-in and second factor

login-title = Sign in
login-lead = Welcome to the Hanlin Education Platform. Please sign in.
login-hint = Your account name, mobile number, student number or staff number.
login-submit = Sign in
totp-title = Two-step verification
totp-lead = Open your authenticator app and enter the 6-digit code it shows.
totp-submit = Verify
totp-error-code = The code is wrong or has expired. Please try again.

## My account

account-title = My account
account-roles = My roles
account-password-expired = Your password is past its allowed age. Please change it now.
account-password = Change password
account-password-hint = Use a long password that is hard to guess, without your account name. Changing it signs you out everywhere else.
account-password-submit = Change password
account-done-password = Password changed. You have been signed out on other devices.
account-done-session = Session ended.
account-done-token-revoked = Access token revoked.
account-done-totp-on = Two-step verification is on.
account-done-totp-off = Two-step verification is off.
account-error-role = You do not hold this role.
account-totp = Two-step verification
account-totp-on = Two-step verification is on: signing in needs a code from your authenticator app as well as your password.
account-totp-off = Two-step verification is off. Administrators and auditors should turn it on.
account-totp-start = Turn on two-step verification
account-totp-setup = Add the key below to your authenticator app (or use the link), then enter the 6-digit code it shows to finish.
account-totp-confirm = Turn on
account-totp-disable = Turn off two-step verification
account-totp-disable-confirm = Turn off two-step verification? Your account will be less secure.
account-sessions = Sessions
account-session-device = Device
account-session-ip = IP address
account-session-seen = Last active
account-session-current = This session
account-session-revoke = Sign out
account-tokens = Access tokens
account-tokens-lead = Access tokens let scripts and other systems use the API with the permissions of your current role. A token is shown only once, when it is created; keep it safe.
account-token-created = Token created. Copy it now: it will not be shown again.
account-token-expires = Expires
account-token-revoke = Revoke
account-token-create = Create token
token-scope-read = Read only
token-scope-write = Read and write
token-error-days = Validity must be 1 to { $max } days.

## Password rules

password-error-too-short = The password must have at least { $min } characters.
password-error-contains-login = The password may not contain your account name.
password-error-classes = The password must mix at least three of: capital letters, small letters, digits, symbols.
password-error-current = The current password is wrong.
password-error-mismatch = The two new passwords do not match.

## Audit log

audit-title = Audit log
audit-lead = What was done within your scope, newest first. Entries are kept for { $days } days.
audit-actor = User
audit-action = Action
audit-outcome = Outcome
audit-all = All
audit-success = Success
audit-failure = Failed
audit-filter = Filter
audit-none = No matching entries.
audit-time = Time
audit-target = Subject
audit-change = Change
audit-more = Older entries
audit-action-login = Sign in
audit-action-login_locked = Sign-in refused (locked)
audit-action-password_change = Password change
audit-action-org_unit_create = Unit created
audit-action-org_unit_update = Unit edited
audit-action-org_unit_move = Unit moved
audit-action-class_create = Class created
audit-action-class_teacher_assign = Teacher assigned
audit-action-class_head_teacher_assign = Head teacher set
audit-action-student_move_class = Student changed class
audit-action-person_create = Person created
audit-action-guardian_link = Parent linked
audit-action-totp_enable = Two-step verification on
audit-action-totp_disable = Two-step verification off
audit-action-bell_schedule_save = Bell schedule saved
audit-action-timetable_draft_save = Timetable draft saved
audit-action-timetable_import = Timetable imported
audit-action-timetable_publish = Timetable published
audit-action-catalogue_import = Textbook catalogue imported
audit-action-catalogue_rename = Catalogue entry renamed
audit-action-catalogue_delete = Catalogue entry deleted
audit-action-harvest_source_add = Harvest source added
audit-action-resource_create = Resource created
audit-action-resource_update = Resource edited
audit-action-resource_version_propose = New version proposed
audit-action-resource_version_approve = New version approved
audit-action-resource_version_reject = New version returned
audit-action-resource_submit = Submitted for review
audit-action-resource_approve = Review approved
audit-action-resource_reject = Review returned
audit-action-resource_recommend = Resource recommended
audit-action-resource_take_down = Resource taken down
audit-action-comment_hide = Comment hidden
audit-action-member_mute = Member muted
audit-action-member_unmute = Member unmuted
audit-action-group_mute = Group muted
audit-action-group_unmute = Group unmuted
audit-action-message_remove = Message removed
audit-action-report_dismiss = Report dismissed

# Calendar: school years and terms
nav-calendar = Calendar
calendar-title = School years and terms
calendar-lead = The region's school years and terms. A class's grade follows from its entry year and the current school year, so classes move up each year by themselves.
calendar-none = No school year is set yet; grades are counted from 1 September each year.
calendar-new-year = Add a school year
calendar-new-term = Add a term
calendar-add = Add
calendar-error-date = “{ $field }” must be a date such as 2026-09-01.
calendar-error-order = The end date must come after the start date.
calendar-error-overlap = This school year overlaps an existing one.
calendar-error-term-outside = A term must lie within its school year.
calendar-error-term-taken = This school year already has a term of that name.
field-starts_on = Start date
field-ends_on = End date
audit-action-school_year_create = School year added
audit-action-term_create = Term added

# Adding a person on a school's page
org-new-person = Add a person
org-person-class-hint = Students need their administrative class; teachers and administrators do not.
field-person_name = Full name

## Account activation (first login)

login-activate-link = First time here? Activate your account
field-account = Account
field-activation_code = Activation code
activate-title = Activate your account
activate-lead = For your first login, enter your account and the activation code from your teacher, then choose your own password. After that, sign in with your account and the new password.
activate-account-hint = Students: your student number. Parents: your mobile number. An account name or staff number also works.
activate-code-hint = 10 characters, like ABCDE-FGHJK; capitals and the dash are optional.
activate-submit = Next
activate-back-to-login = Back to sign-in
activate-error = The account or activation code is wrong, or the code has expired or been replaced. Check them and try again, or ask the head teacher for a new code.
activate-password-title = Choose your password
activate-password-lead = Hello, { $name }! Choose a password. Once it is set your account is activated; from then on, sign in with your account and this password.
activate-password-hint = Use a long password that is hard to guess, without your account name.
activate-password-submit = Activate

## Activation codes (printed by head teachers and admins)

activation-issue = Print activation codes
activation-issue-lead = Makes activation codes for the students and parents of this class who have not activated their accounts. Each time, new codes replace the old ones and earlier printouts stop working; activated accounts get none.
activation-audience = For
activation-audience-all = Students and parents
activation-audience-students = Students
activation-audience-parents = Parents
activation-format = Format
activation-format-page = Page to print
activation-format-xlsx = Excel workbook (.xlsx)
activation-issue-confirm = New activation codes void every code printed before. Continue?
activation-issue-submit = Make codes
activation-person-issue = Make an activation code
activation-person-issue-lead = Makes a one-time activation code with which this person sets their password at their first login. Any earlier code stops working.
activation-slips-title = Activation codes · { $name }
activation-slips-none = No account needs an activation code.
activation-slips-issued = { $count ->
    [one] One activation code made. Print it and hand it out.
   *[other] { $count } activation codes made. Print them and hand them out.
}
activation-slips-void-note = The codes are shown on this page only, this once. Printing again makes new codes and voids these.
activation-slips-skipped = { $count ->
    [one] One person has already activated their account and needs no code.
   *[other] { $count } people have already activated their accounts and need no code.
}
activation-slips-no-account = { $count ->
    [one] One person has no account name, mobile, student or staff number, so cannot sign in and got no code. Complete their record first.
   *[other] { $count } people have no account name, mobile, student or staff number, so cannot sign in and got no code. Complete their records first.
}
activation-slip-heading = Hanlin Education Platform · Account activation
activation-slip-role-parent = Parent of { $children }
activation-slip-account = Account
activation-slip-code = Activation code
activation-slip-expires = Valid until
activation-slip-address = Activation address
activation-slip-howto = Open the activation address, enter the account and the activation code, then choose your own password. The code works once; keep it to yourself.
activation-sheet-name = Activation codes
activation-file-name = activation-codes-{ $name }
audit-action-activation_codes_issue = Class activation codes made
audit-action-activation_code_issue = Personal activation code made
audit-action-account_activate = Account activation
