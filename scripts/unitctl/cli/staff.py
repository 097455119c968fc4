"""`unitctl staff list [UNIT]` and `unitctl staff appointments`: the rosters and the appointments.

Clause 1, note 2 of the circular: staff hold appointments from their unit's head (supervisors from
the provincial directorate, note 1) and copies go to the deputy for planning. `appointments`
writes them as CSV (for a spreadsheet) and as a printable bilingual page (RTL, Jalali dates).
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path

import jdatetime
import jinja2

from unitctl import paths
from unitctl.cli import USAGE_REFUSED, add_inventory_option, checked_source, exit_statuses, unit_ids_completer
from unitctl.i18n import N_, _, language, number
from unitctl.inventory.choice import OPTION, InventoryChoice, unit_not_found
from unitctl.inventory.load import Province
from unitctl.inventory.policy import load_policy
from unitctl.inventory.schema import PRIVILEGED_ROLES, is_placeholder

ISSUERS = {
    "provincial_directorate": ("Provincial directorate", "مدیریت کل استان"),
    "unit_head": ("Head of the unit", "رئیس واحد"),
}
PERSIAN_DIGITS = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")


def register(commands: argparse._SubParsersAction) -> None:
    staff = commands.add_parser(
        "staff", help=_("each unit's staff roster and the appointments for the deputy for planning"),
        description=_("Read the staff rosters (staff.yml) of a province."))
    actions = staff.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    statuses = exit_statuses(("0", N_("done")), ("1", N_("no such unit in the inventory")), USAGE_REFUSED)
    listing = actions.add_parser("list", help=_("print each unit's roster (or one unit's)"), epilog=statuses)
    listing.add_argument("unit", nargs="?", metavar="UNIT",
                         help=_("a unit id, e.g. qom-court (default: every unit)")).completer = unit_ids_completer
    appointments = actions.add_parser(
        "appointments", help=_("export the appointments as CSV and a printable bilingual page"),
        description=_("Write every staff member's appointment (number, Jalali and Gregorian date, issuer)."),
        epilog=statuses)
    appointments.add_argument("--csv", type=Path, help=_("write the CSV here"))
    appointments.add_argument("--html", type=Path,
                              help=_("write the printable page (RTL, Persian and English) here"))
    appointments.add_argument("unit", nargs="?", metavar="UNIT",
                              help=_("only this unit (default: every unit)")).completer = unit_ids_completer
    for parser in (listing, appointments):
        add_inventory_option(parser, paths.INVENTORY_DIR / "qom.unitctl.yml",
                             N_("the province, inventory/qom.unitctl.yml"))
    listing.set_defaults(func=run_list)
    appointments.set_defaults(func=run_appointments)


@dataclass
class Member:
    unit_id: str
    unit_name_fa: str
    unit_name_en: str
    username: str
    name_fa: str
    name_en: str
    role: str
    role_fa: str
    role_en: str
    area: str
    key_ready: bool
    number: str
    date_jalali: str
    date_gregorian: str
    issued_by: str

    @property
    def appointment_missing(self) -> bool:
        return not self.number or is_placeholder(self.number)


def load_members(source: Path, unit_id: str | None = None,
                 choice: InventoryChoice | None = None) -> tuple[Province, list[Member]]:
    """The roster of every unit (or one) of the province named by an inventory source (`choice`:
    where that source came from, for the message when `unit_id` is not in it).

    Raises SystemExit (status 1) with the other source that has the unit, or close unit ids."""
    checked = checked_source(Path(source))
    province = checked.province
    roles = load_policy(checked.root, province, lab=checked.lab).get("province_access_roles", {})
    known = [unit.id for unit in province.units]
    if unit_id and unit_id not in known:
        raise SystemExit("unitctl staff: " + unit_not_found([unit_id], choice or InventoryChoice(Path(source), OPTION),
                                                            known))
    members = []
    for unit in province.units:
        if unit_id and unit.id != unit_id:
            continue
        for person in unit.staff:
            appointment = person.get("appointment") or {}
            date = str(appointment.get("date") or "")
            role = roles.get(person["role"], {})
            members.append(Member(
                unit.id, unit.info["name_fa"], unit.info["name_en"], person["username"], person["name_fa"],
                person["name_en"], person["role"], role.get("title_fa", person["role"]),
                role.get("title_en", person["role"]), person["area"], not is_placeholder(person["ssh_key"]),
                str(appointment.get("number") or ""), date, gregorian(date), appointment.get("issued_by", ""),
            ))
    return province, members


def gregorian(jalali: str) -> str:
    """1387/07/01 -> 2008-09-22; '' for a missing or placeholder date."""
    try:
        year, month, day = (int(part) for part in jalali.split("/"))
        return jdatetime.date(year, month, day).togregorian().isoformat()
    except (ValueError, TypeError):
        return ""


def run_list(args: argparse.Namespace) -> int:
    members = load_members(args.inventory, args.unit, getattr(args, "inventory_choice", None))[1]
    unit = None
    for member in members:
        if member.unit_id != unit:
            unit = member.unit_id
            print(f"\n{member.unit_id}: {member.unit_name_en} / {member.unit_name_fa}")
        if not member.appointment_missing:
            english, persian = ISSUERS.get(member.issued_by, (member.issued_by, member.issued_by))
            appointment = _("appointment {number} of {date_jalali} ({date_gregorian}), {issuer}").format(
                number=member.number, date_jalali=member.date_jalali, date_gregorian=member.date_gregorian,
                issuer=persian if language() == "fa" else english.lower())
        elif member.role in PRIVILEGED_ROLES:
            appointment = _("NO APPOINTMENT ON RECORD")
        else:
            appointment = _("no appointment on record")
        key = "  " + _("[SSH key still TODO]") if not member.key_ready else ""
        print(f"  {member.username:<16} {member.role:<20} {member.name_en} / {member.name_fa} — {member.area}; "
              f"{appointment}{key}")
    if not members:
        print(_("no staff on record"))
    return 0


CSV_COLUMNS = ["unit_id", "unit_name_fa", "unit_name_en", "username", "name_fa", "name_en", "role", "role_fa",
               "area", "appointment_number", "appointment_date_jalali", "appointment_date_gregorian",
               "issued_by", "issued_by_fa"]


def write_csv(members: list[Member], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # utf-8-sig: spreadsheet programs then read the Persian names correctly.
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(CSV_COLUMNS)
        for m in members:
            writer.writerow([m.unit_id, m.unit_name_fa, m.unit_name_en, m.username, m.name_fa, m.name_en, m.role,
                             m.role_fa, m.area, m.number, m.date_jalali, m.date_gregorian, m.issued_by,
                             ISSUERS.get(m.issued_by, ("", ""))[1]])


def fa_digits(text: str) -> str:
    return str(text).translate(PERSIAN_DIGITS)


def write_html(members: list[Member], path: Path, province_fa: str, province_en: str) -> None:
    """The printable appointments page (templates/report/appointments.html.j2), members in order."""
    today = jdatetime.date.today()
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(paths.TEMPLATES_DIR / "report"), autoescape=True,
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    environment.filters["fa"] = fa_digits
    page = environment.get_template("appointments.html.j2").render(
        members=members, issuers=ISSUERS, province_name_fa=province_fa, province_name_en=province_en,
        today_jalali=today.strftime("%Y/%m/%d"), today_gregorian=today.togregorian().isoformat())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")


def run_appointments(args: argparse.Namespace) -> int:
    if not args.csv and not args.html:
        print("unitctl staff appointments: " + _("name --csv FILE and/or --html FILE"), file=sys.stderr)
        return 2
    province, members = load_members(args.inventory, args.unit, getattr(args, "inventory_choice", None))
    if args.csv:
        write_csv(members, args.csv)
        print(_wrote(args.csv, len(members)))
    if args.html:
        policy = load_policy(Path(args.inventory).parent, province)
        write_html(members, args.html, policy.get("province_name_fa", ""), policy.get("province_name_en", ""))
        print(_wrote(args.html, len(members)))
    missing = [m for m in members if m.appointment_missing and m.role in PRIVILEGED_ROLES]
    for m in missing:
        print(_("warning: {unit}: {username} ({role}) has no appointment on record").format(
            unit=m.unit_id, username=m.username, role=m.role), file=sys.stderr)
    return 0


def _wrote(path: Path, staff: int) -> str:
    return _("wrote {path} ({count} staff)").format(path=path, count=number(staff))
