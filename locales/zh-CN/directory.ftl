# 目录区：组织机构、班级、人员与角色、登录与账号、审计日志。
# 内核的键（app-name、layout-*、error-*、role-*）在 kernel.ftl 中，这里不再重复。

## 导航

nav-home = 首页
nav-org = 组织机构
nav-people = 人员
nav-audit = 审计日志
nav-account = 我的账号

## 首页

home-title = 首页
home-greeting = { $name }，您好
home-units = 下级单位
home-my-classes = 我的班级
home-my-children = 我的孩子

## 字段名称（表单标签；出错提示中的 { $field } 也取自这里）

field-login = 账号
field-password = 密码
field-code = 代码
field-name = 名称
field-kind = 类型
field-school_code = 学校标识码
field-division_code = 行政区划代码
field-school_type = 办学类型
field-urban_rural = 城乡分类
field-parent_id = 上级单位
field-unit_id = 所属单位
field-school_id = 学校
field-stage = 学段
field-stages = 学段
field-entry_year = 入学年份
field-number = 班号
field-class = 班级
field-class_id = 班级
field-class_kind = 班级类型
field-class_name = 班级名称
field-subject = 任教学科
field-head = 班主任
field-person_id = 教师
field-student = 学生
field-relation = 与学生关系
field-role = 角色
field-role_id = 身份
field-gender = 性别
field-phone = 手机号
field-student_number = 学籍号
field-staff_number = 教工号
field-place = 所在单位
field-dates = 起止日期
field-current_password = 当前密码
field-new_password = 新密码
field-confirm_password = 确认新密码
field-scope = 权限
field-days = 有效期（天）
field-locale = 界面语言
field-q = 姓名
field-action = 操作
field-outcome = 结果
field-actor = 操作人
field-content-type = 请求类型（Content-Type）
field-body = 请求内容

## 单位类型

unit-kind-province = 省级
unit-kind-city = 市级
unit-kind-district = 区县级
unit-kind-school = 学校
unit-kind-teaching_point = 教学点
unit-kind-office = 部门

## 班级类型

class-kind-administrative = 行政班
class-kind-teaching = 教学班
class-kind-elective = 选课组班

## 性别与亲属关系

gender-male = 男
gender-female = 女
relation-father = 父亲
relation-mother = 母亲
relation-grandfather = 祖父/外祖父
relation-grandmother = 祖母/外祖母
relation-guardian = 其他监护人

## 组织机构

org-trail = 当前位置
org-count-schools = 学校
org-count-classes = 班级
org-count-teachers = 教师
org-count-students = 学生
org-children = 下级单位
org-classes = 班级
org-no-classes = 还没有班级。
org-new-class = 新建班级
org-class-name-hint = 行政班可不填，系统按年级和班号自动命名（如“三年级2班”）；教学班和选课组班必须填写名称。
org-create = 创建
org-manage = 管理
org-edit = 编辑单位信息
org-save = 保存
org-new-child = 新建下级单位
org-code-hint = 学校填写 10 位学校标识码；省、市、区县填写 6 位行政区划代码；教学点和部门可不填。
org-move = 调整隶属关系
org-move-hint = 单位移动后，其下级单位、班级和人员随之移动，管理权限也随之改变。
org-move-to = 新的上级单位
org-move-submit = 移动
org-move-confirm = 确定要把该单位连同其下级单位、班级和人员一起移到新的上级单位下吗？
org-error-school-code = 学校标识码应为 10 位数字。
org-error-division-code = 行政区划代码应为 6 位数字，且不能以 0 开头。
org-error-school-type = 请从列表中选择办学类型。
org-error-urban-rural = 请从列表中选择城乡分类。
org-error-code-taken = 该代码已被其他单位使用。
org-error-kind-placement = 这类单位不能设在所选上级单位之下（学校应设在教育局下，教学点应设在学校下）。
org-error-move-into-self = 不能移动您本人所在的单位，也不能把单位移到它自己或它的下级单位之下。

## 班级

class-teachers = 教师
class-no-teachers = 还没有安排教师。
class-assign-teacher = 安排教师
class-make-head = 设为班主任（替换现任班主任）
class-assign = 确定
class-students = 学生
class-no-students = 本班还没有学生。
class-error-not-school = 只有学校和教学点可以建立班级。
class-error-stage = 该学校没有这个学段（学段由办学类型决定）。
class-error-taken = 本校同一学段、同一入学年份已有该班号的同类班级。
class-error-not-teacher = 只能安排本校在职的教师。
class-error-not-administrative = 学生只能调入行政班。

## 人员

people-title = 人员
people-all-roles = 全部角色
people-search = 查询
people-none = 没有找到符合条件的人员。
people-prev = 上一页
people-next = 下一页
people-roles = 角色与任职
people-now = 至今
people-guardians = 家长
people-children = 子女
people-error-login = 账号应为 3 到 40 位字母、数字或 . _ -，且不能全是数字。
people-error-phone = 手机号应为以 1 开头的 11 位数字。
people-error-taken = “{ $field }”已被使用，不能重复。
people-error-role-place = 该角色不能设在所选单位：学校管理员、教师和学生须在学校，教育局管理员和教研员须在教育局；班主任在班级页面指定，家长通过关联学生添加。
people-error-class-school = 所选班级不属于该学校。
people-error-not-student = 该人员目前不是在读学生。

## 登录与两步验证

login-title = 登录
login-lead = 欢迎使用翰林教育平台，请登录。
login-hint = 可使用账号、手机号、学籍号或教工号登录。
login-submit = 登录
totp-title = 两步验证
totp-lead = 请打开身份验证器 App，输入其中显示的 6 位动态验证码。
totp-submit = 验证
totp-error-code = 动态验证码不正确或已过期，请重新输入。

## 我的账号

account-title = 我的账号
account-roles = 我的身份
account-password-expired = 您的密码已超过规定的使用期限，请立即修改。
account-password = 修改密码
account-password-hint = 请使用足够长、不易被猜到的密码，不要包含账号。修改后，其他设备上的登录将全部退出。
account-password-submit = 修改密码
account-done-password = 密码已修改，其他设备上的登录已全部退出。
account-done-session = 已退出该会话。
account-done-token-revoked = 访问令牌已吊销。
account-done-totp-on = 两步验证已开启。
account-done-totp-off = 两步验证已关闭。
account-error-role = 您没有这个身份。
account-totp = 两步验证
account-totp-on = 两步验证已开启：登录时除密码外，还需输入身份验证器 App 中的动态验证码。
account-totp-off = 两步验证未开启。管理员和审计员账号建议开启。
account-totp-start = 开启两步验证
account-totp-setup = 请在身份验证器 App 中手动添加下方密钥（或使用下方链接），然后输入 App 显示的 6 位动态验证码完成开启。
account-totp-confirm = 确认开启
account-totp-disable = 关闭两步验证
account-totp-disable-confirm = 确定要关闭两步验证吗？关闭后账号的安全性会降低。
account-sessions = 登录会话
account-session-device = 设备
account-session-ip = IP 地址
account-session-seen = 最近活动
account-session-current = 当前会话
account-session-revoke = 退出
account-tokens = 访问令牌
account-tokens-lead = 访问令牌供脚本和其他系统通过接口访问平台，权限与您当前的身份相同。令牌只在创建时显示一次，请妥善保管。
account-token-created = 访问令牌已创建。请立即复制保存，离开本页后将无法再次查看：
account-token-expires = 到期时间
account-token-revoke = 吊销
account-token-create = 创建令牌
token-scope-read = 只读
token-scope-write = 读写
token-error-days = 有效期应为 1 到 { $max } 天。

## 密码规则

password-error-too-short = 密码至少需要 { $min } 个字符。
password-error-contains-login = 密码不能包含账号。
password-error-classes = 密码须包含大写字母、小写字母、数字和特殊字符中的至少三类。
password-error-current = 当前密码不正确。
password-error-mismatch = 两次输入的新密码不一致。

## 审计日志

audit-title = 审计日志
audit-lead = 显示您管辖范围内的操作记录，最新的在前。记录保留 { $days } 天。
audit-actor = 操作人
audit-action = 操作
audit-outcome = 结果
audit-all = 全部
audit-success = 成功
audit-failure = 失败
audit-filter = 筛选
audit-none = 没有符合条件的记录。
audit-time = 时间
audit-target = 对象
audit-change = 变更内容
audit-more = 更早的记录
audit-action-login = 登录
audit-action-login_locked = 登录被拒（已锁定）
audit-action-password_change = 修改密码
audit-action-org_unit_create = 新建单位
audit-action-org_unit_update = 修改单位信息
audit-action-org_unit_move = 调整隶属关系
audit-action-class_create = 新建班级
audit-action-class_teacher_assign = 安排任课教师
audit-action-class_head_teacher_assign = 指定班主任
audit-action-student_move_class = 学生调班
audit-action-person_create = 新建人员
audit-action-guardian_link = 关联家长
audit-action-totp_enable = 开启两步验证
audit-action-totp_disable = 关闭两步验证
audit-action-bell_schedule_save = 保存作息时间
audit-action-timetable_draft_save = 保存课表草稿
audit-action-timetable_import = 导入课表
audit-action-timetable_publish = 发布课表
audit-action-catalogue_import = 导入教材目录
audit-action-catalogue_rename = 修改目录名称
audit-action-catalogue_delete = 删除目录
audit-action-harvest_source_add = 添加汇聚来源
audit-action-resource_create = 新建资源
audit-action-resource_update = 修改资源
audit-action-resource_version_propose = 提交资源新版本
audit-action-resource_version_approve = 新版本审核通过
audit-action-resource_version_reject = 新版本审核退回
audit-action-resource_submit = 提交审核
audit-action-resource_approve = 审核通过
audit-action-resource_reject = 审核退回
audit-action-resource_recommend = 推荐资源
audit-action-resource_take_down = 下架资源
audit-action-comment_hide = 隐藏评论
audit-action-member_mute = 禁言成员
audit-action-member_unmute = 解除成员禁言
audit-action-group_mute = 全群禁言
audit-action-group_unmute = 解除全群禁言
audit-action-message_remove = 删除消息
audit-action-report_dismiss = 驳回举报

# Calendar: school years and terms
nav-calendar = 校历
calendar-title = 学年与学期
calendar-lead = 全区统一的学年和学期。班级的年级按入学年份和当前学年自动计算，每学年自动升级。
calendar-none = 尚未设置学年；系统按每年 9 月 1 日开学计算年级。
calendar-new-year = 新增学年
calendar-new-term = 新增学期
calendar-add = 添加
calendar-error-date = “{ $field }”应为日期，格式如 2026-09-01。
calendar-error-order = 结束日期必须晚于开始日期。
calendar-error-overlap = 该学年与已有学年的日期重叠。
calendar-error-term-outside = 学期必须在所属学年的起止日期之内。
calendar-error-term-taken = 该学年已有同名学期。
field-starts_on = 开始日期
field-ends_on = 结束日期
audit-action-school_year_create = 新增学年
audit-action-term_create = 新增学期

# Adding a person on a school's page
org-new-person = 新增人员
org-person-class-hint = 学生必须选择所在行政班；教师和管理员无需选择。
field-person_name = 姓名

## 账号激活（首次登录）

login-activate-link = 首次登录？激活账号
field-account = 登录账号
field-activation_code = 激活码
activate-title = 激活账号
activate-lead = 首次登录请填写登录账号和老师发给您的激活码，然后设置自己的密码。激活后，请用账号和新密码登录。
activate-account-hint = 学生填写学籍号，家长填写手机号；也可以填写账号或教工号。
activate-code-hint = 激活码共 10 位，如 ABCDE-FGHJK，不区分大小写，短横线可不填。
activate-submit = 下一步
activate-back-to-login = 返回登录
activate-error = 账号或激活码不正确，或激活码已过期、已作废。请核对后重试，或请班主任重新打印激活码。
activate-password-title = 设置密码
activate-password-lead = { $name }，您好！请设置登录密码。设置完成即激活账号，以后请用账号和这个密码登录。
activate-password-hint = 请使用足够长、不易被猜到的密码，不要包含账号。
activate-password-submit = 完成激活

## 激活码（班主任和管理员打印）

activation-issue = 打印激活码
activation-issue-lead = 为本班尚未激活账号的学生和家长生成激活码。每次生成都会换成新的激活码，之前打印的激活码随即作废；已激活的账号不会生成。
activation-audience = 发给
activation-audience-all = 学生和家长
activation-audience-students = 学生
activation-audience-parents = 家长
activation-format = 格式
activation-format-page = 打印页面
activation-format-xlsx = Excel 表格（.xlsx）
activation-issue-confirm = 生成新的激活码后，之前打印的激活码将全部作废。确定继续吗？
activation-issue-submit = 生成激活码
activation-person-issue = 生成激活码
activation-person-issue-lead = 生成一次性激活码，供此人首次登录时设置密码。之前的激活码随即作废。
activation-slips-title = 激活码 · { $name }
activation-slips-none = 没有需要生成激活码的账号。
activation-slips-issued = 已生成 { $count } 张激活码，请打印后分发。
activation-slips-void-note = 激活码只在本页显示这一次。再次打印会生成新的激活码，本页的激活码随即作废。
activation-slips-skipped = { $count } 人已激活账号，无需激活码。
activation-slips-no-account = { $count } 人没有账号、手机号、学籍号或教工号，无法登录，未生成激活码。请先补全信息。
activation-slip-heading = 翰林教育平台 · 账号激活通知
activation-slip-role-parent = { $children }的家长
activation-slip-account = 登录账号
activation-slip-code = 激活码
activation-slip-expires = 有效期至
activation-slip-address = 激活网址
activation-slip-howto = 打开激活网址，填写登录账号和激活码，再设置自己的密码。激活码只能使用一次，请勿告诉他人。
activation-sheet-name = 激活码
activation-file-name = 激活码-{ $name }
audit-action-activation_codes_issue = 生成班级激活码
audit-action-activation_code_issue = 生成个人激活码
audit-action-account_activate = 激活账号
