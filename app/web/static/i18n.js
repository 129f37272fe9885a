// Interface strings: zh-CN first, English second. Keys are shared by both languages.
const STRINGS = {
  "zh-CN": {
    brand: "水卫 · 防溺水巡查指挥台", brand_short: "水卫指挥台", brand_sub: "无人机防溺水空地联动巡查系统",
    username: "用户名", password: "密码", login: "登录", logout: "退出", live: "实时",
    login_failed: "登录失败：用户名或密码错误", login_locked: "尝试过多，请稍后再试", otp: "动态验证码（如已启用）",
    nav_map: "态势地图", nav_ops: "警情处置", nav_unit: "我的警情", nav_stats: "统计分析",
    open_incidents: "未结警情", drones_live: "在飞无人机", ground_units: "地面警力",
    fit: "全", layers: "图层", layer_jur: "辖区", layer_water: "水域", layer_deep: "深水区",
    layer_hot: "高发点", layer_nofly: "禁飞区", layer_units: "警力", layer_drones: "无人机",
    layer_incidents: "警情", layer_launch: "起降点",
    incident_queue: "警情队列", show_closed: "含已结", time: "时间", place: "地点", people: "人数",
    flags: "标记", state: "状态", waited: "已历时", actions: "处置", missions: "巡查任务",
    sorties_today: "飞行架次", schedules: "巡查排班", window: "时段", every: "间隔", rrule: "重复规则", active: "启用", paused: "停用", name: "名称", waterway: "水域", pattern: "航线", length: "航程",
    duration: "时长", planned: "计划时间", drone: "无人机",
    my_tasks: "我的警情", no_tasks: "暂无待处置警情",
    from: "起", to: "止", station: "派出所", hours: "时段", all: "全部", all_day: "全天",
    apply: "查询", export: "导出", export_summary: "汇总", export_incidents: "警情明细", export_sightings: "发现明细",
    report_html: "统计报告",
    role_admin: "管理员", role_command: "指挥中心", role_operator: "飞手", role_station_officer: "派出所民警",
    role_ground_unit: "地面警力", role_grid_worker: "网格员",
    chart_daily: "每日发现与劝离人数", chart_hourly: "分时段发现人数（按水域，当地时间）",
    chart_outcomes: "警情处置结果", chart_response: "响应时间（分钟）",
    hot_spot_rank: "高发点位排名", by_station: "各派出所对比", rank: "排名", persons: "人数", minors: "未成年", deep: "深水",
    peak_hour: "高峰", by_hour: "24小时分布", no_view: "此账号没有可用的指挥台视图。",
    warn: "喊话", escalate: "升级", resolve: "处置完毕", acknowledge: "确认接警", arrive: "到达现场",
    warned_ok: "已记录喊话警告", escalated_ok: "已升级，正在派警", resolved_ok: "警情已处置",
    air_warn: "无人机喊话", air_warned_ok: "已发送至无人机喊话", no_drone_in_reach: "附近没有可喊话的机场无人机",
    acknowledged_ok: "已确认接警", arrived_ok: "已到达现场", new_alert: "新警情：",
    action_failed: "操作失败", deep_short: "深水", minor_short: "未成年", night_short: "夜间",
    unlisted: "未登记点位", no_waterway: "未归属水域", median: "中位数", p90: "90分位",
    to_warning: "至喊话", to_acknowledgement: "至确认", to_on_scene: "至到场",
    found: "发现", dissuaded: "劝离",
    k_ops: "巡查行动", k_sorties: "飞行架次", k_hours: "实飞时长（小时）", k_km: "实飞里程（公里，按航迹）", planned_short: "计划",
    k_found: "发现人数", k_dissuaded: "劝离人数", k_air: "空中喊话劝离", k_ground: "地面警力劝离",
    k_minors: "疑似未成年人", k_incidents: "警情", k_open: "未结", k_referrals: "教育完成",
    k_overdue: "逾期未办", k_warn_time: "喊话响应中位数", k_scene_time: "到场中位数",
    no_flight_log: "暂无飞行记录", of_total: "共 {n}", sightings_n: "{n} 条发现记录",
    outcome_dissuaded: "劝离", outcome_rescued: "救起", outcome_nobody_found: "未发现人员",
    outcome_false_alarm: "误报", outcome_none: "未结", outcome_cleared_from_air: "空中劝离",
    st_detected: "发现", st_warned: "已喊话", st_cleared: "已离水", st_escalated: "已升级",
    st_dispatched: "已派警", st_acknowledged: "已接警", st_on_scene: "已到场", st_resolved: "已处置",
    st_closed: "已关闭",
    sortie_planned: "计划", sortie_preflight: "起飞前检查", sortie_airborne: "飞行中",
    sortie_returning: "返航", sortie_landed: "已降落", sortie_aborted: "中止",
    unit_available: "待命", unit_dispatched: "出警中", unit_on_scene: "在现场", unit_off_duty: "离岗", unit_out_of_service: "停用",
    unavailable: "（接口暂未提供）", battery: "电量", alt: "高度", last_fix: "定位",
    people_n: "{n} 人", minutes: "分钟", resolve_prompt: "处置结果",
    confirm: "确认", cancel: "取消", confirm_outcome: "确认处置结果：{outcome}？", ack_first: "请先确认接警",
    drone_over: "上空无人机", enable_alerts: "开启提醒（通知与声音）", no_fix: "无定位",
    seconds_ago: "{n} 秒", minutes_ago: "{n} 分", hours_ago: "{n} 时",
    lang_switch: "English",
  },
  en: {
    brand: "Waterguard · drowning prevention console", brand_short: "Waterguard", brand_sub: "Air-ground drone patrols against drowning",
    username: "Username", password: "Password", login: "Log in", logout: "Log out", live: "Live",
    login_failed: "Login failed: wrong username or password", login_locked: "Too many tries; wait a moment and retry", otp: "One-time code (if enrolled)",
    nav_map: "Map", nav_ops: "Incidents", nav_unit: "My alerts", nav_stats: "Statistics",
    open_incidents: "Open incidents", drones_live: "Drones in the air", ground_units: "Ground units",
    fit: "Fit", layers: "Layers", layer_jur: "Jurisdictions", layer_water: "Waterways", layer_deep: "Deep water",
    layer_hot: "Hot spots", layer_nofly: "No-fly zones", layer_units: "Units", layer_drones: "Drones",
    layer_incidents: "Incidents", layer_launch: "Launch points",
    incident_queue: "Incident queue", show_closed: "include closed", time: "Time", place: "Place", people: "People",
    flags: "Flags", state: "State", waited: "Elapsed", actions: "Actions", missions: "Missions",
    sorties_today: "Sorties", schedules: "Schedules", window: "Window", every: "Every", rrule: "Recurrence", active: "active", paused: "paused", name: "Name", waterway: "Waterway", pattern: "Pattern", length: "Length",
    duration: "Duration", planned: "Planned", drone: "Drone",
    my_tasks: "My alerts", no_tasks: "Nothing to respond to",
    from: "From", to: "To", station: "Station", hours: "Hours", all: "All", all_day: "All day",
    apply: "Apply", export: "Export", export_summary: "Summary", export_incidents: "Incidents", export_sightings: "Sightings",
    report_html: "Report",
    role_admin: "administrator", role_command: "district command", role_operator: "drone operator", role_station_officer: "station officer",
    role_ground_unit: "ground unit", role_grid_worker: "grid worker",
    chart_daily: "Persons found and dissuaded per day", chart_hourly: "Persons found by hour (per waterway, local)",
    chart_outcomes: "Incident outcomes", chart_response: "Response times (minutes)",
    hot_spot_rank: "Hot-spot ranking", by_station: "By police station", rank: "Rank", persons: "Persons", minors: "Minors", deep: "Deep",
    peak_hour: "Peak", by_hour: "By hour", no_view: "This account has no console view.",
    warn: "Warn", escalate: "Escalate", resolve: "Resolve", acknowledge: "Acknowledge", arrive: "On scene",
    warned_ok: "Warning recorded", escalated_ok: "Escalated; dispatching", resolved_ok: "Incident resolved",
    air_warn: "Play from drone", air_warned_ok: "Sent to the drone's speaker", no_drone_in_reach: "No dock drone in reach",
    acknowledged_ok: "Acknowledged", arrived_ok: "On scene", new_alert: "New alert: ",
    action_failed: "Action failed", deep_short: "deep", minor_short: "minor", night_short: "night",
    unlisted: "unlisted place", no_waterway: "no waterway", median: "median", p90: "p90",
    to_warning: "to warning", to_acknowledgement: "to ack", to_on_scene: "to on scene",
    found: "found", dissuaded: "dissuaded",
    k_ops: "Patrol operations", k_sorties: "Sorties", k_hours: "Flight hours flown", k_km: "Distance flown (km, telemetry)", planned_short: "planned",
    k_found: "Persons found", k_dissuaded: "Persons dissuaded", k_air: "Dissuaded from the air", k_ground: "By ground units",
    k_minors: "Suspected minors", k_incidents: "Incidents", k_open: "open", k_referrals: "Referrals done",
    k_overdue: "Overdue follow-ups", k_warn_time: "Median to warning", k_scene_time: "Median to on scene",
    no_flight_log: "no flight log yet", of_total: "of {n}", sightings_n: "{n} sightings",
    outcome_dissuaded: "dissuaded", outcome_rescued: "rescued", outcome_nobody_found: "nobody found",
    outcome_false_alarm: "false alarm", outcome_none: "open", outcome_cleared_from_air: "cleared from the air",
    st_detected: "detected", st_warned: "warned", st_cleared: "cleared", st_escalated: "escalated",
    st_dispatched: "dispatched", st_acknowledged: "acknowledged", st_on_scene: "on scene", st_resolved: "resolved",
    st_closed: "closed",
    sortie_planned: "planned", sortie_preflight: "pre-flight", sortie_airborne: "airborne",
    sortie_returning: "returning", sortie_landed: "landed", sortie_aborted: "aborted",
    unit_available: "available", unit_dispatched: "dispatched", unit_on_scene: "on scene", unit_off_duty: "off duty", unit_out_of_service: "out of service",
    unavailable: "(not available yet)", battery: "battery", alt: "alt", last_fix: "fix",
    people_n: "{n} people", minutes: "min", resolve_prompt: "Outcome",
    confirm: "Confirm", cancel: "Cancel", confirm_outcome: "Resolve as: {outcome}?", ack_first: "Acknowledge first",
    drone_over: "drone overhead", enable_alerts: "Turn on alerts (notification and sound)", no_fix: "no position fix",
    seconds_ago: "{n}s", minutes_ago: "{n}m", hours_ago: "{n}h",
    lang_switch: "中文",
  },
};

let lang = sessionStorage.getItem("wg.lang") || "zh-CN";

export function currentLang() { return lang; }

export function t(key, values) {
  const text = (STRINGS[lang] && STRINGS[lang][key]) ?? STRINGS["zh-CN"][key] ?? key;
  if (!values) return text;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

export function applyStrings(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll(".lang-toggle")) el.textContent = t("lang_switch");
  document.title = t("brand");
}

export function toggleLang() {
  lang = lang === "zh-CN" ? "en" : "zh-CN";
  sessionStorage.setItem("wg.lang", lang);
  applyStrings();
}
