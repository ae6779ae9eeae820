"""Deterministic synthetic county simulator (``earlywarn simulate OUTDIR``).

Writes the six v1 input files of formats.md (``projects.csv``, ``subcontracts.csv``, ``workers.csv``,
``attendance.csv``, ``payroll.csv``, ``reports.csv``; UTF-8, English headers) and the ground truth
``truth/disputes.csv`` (project_code, date, workers, amount_owed: one row per collective dispute). Pure
Python (stdlib + python-stdnum for check characters); the same ``seed`` and ``scale`` give byte-identical
files (also with ``mechanism`` and ``vary_forms``, below). Scale 1.0 is the reference county (Anji 安吉县):
about 100 projects, 6,000 workers and a million attendance rows over 18 months; ``scale`` multiplies the number
of projects (at least 3).

Mechanisms (the latent causes are never written; only their observable traces are):

* **County.** The 15 townships/streets of Anji (urban streets get more projects). A county-wide weather
  process (a two-state Markov chain per day, wetter in the plum-rain season mid-June–mid-July and with
  occasional typhoon spells in August–September); heavy rain stops the outdoor trades. Spring Festival dates
  come from a table (2020–2035).
* **Organisations.** A pool of ~30 general contractors, ~20 owners, specialist and labour subcontractors,
  all with valid unified social credit codes (GB 32100, organisation code with its GB 11714 check) and
  reused across projects. Each company has a latent weakness (Beta-distributed); each owner has a funding
  process: Poisson funding shocks of random length and severity, frequent for private developers, rarer for
  government platforms and enterprises; each project has its own idiosyncratic shocks.
* **Projects.** Code ``AJ<start year>-<nnn>``, name by owner type (小区 / 安置房 / 厂房 / 学校 / 道路 …),
  starts drawn as a stationary stream (projects already finished when the window opens are redrawn, so
  about half are running at its start), planned and actual end (overruns grow with weakness), peak
  headcount (log-normal), contract value, wage account / deposit / notice board (less often present for
  weak contractors).
* **Subcontract tree** rooted at the general contractor, depth 1–4: 专业分包 (specialist companies), 劳务分包
  (labour companies), occasionally an illegal 再分包 (a labour subcontractor passing its work to another
  labour company), and work teams (``张建国班组``, kind 班组) at every leaf.
* **Teams and workers.** Each team has a trade (木工, 钢筋工, 泥瓦工, 架子工, 电焊工, 水电工, 油漆工, 杂工) with its
  own phase window of the project life and daily wages of about 250–500 yuan (multiples of 10, the leader a
  little more); a leader who reappears on later projects with part of his crew; a tie type: "spider-web"
  teams recruit mostly from the leader's home county, "satellite" teams mix origins and protest more readily.
  Workers have Chinese names, 18-character resident IDs with GB 11643 check characters (Zhejiang 33xxxx and
  migrant counties such as 5115xx, 4128xx, 3412xx; born 1960–2004), mobile numbers. A person works on one
  site at a time and may appear on several projects (one roster row per project). Headcount follows the team
  window (ramp up, plateau, ramp down) scaled down while the owner's funding is short; workers quit at random,
  leave when their team winds down, and quit faster while they are owed wages.
* **Attendance.** One row per worker-day: whole sites rest on some Sundays and holidays, workers take single
  days off, outdoor trades stop on heavy-rain days; hours are usually 8 (4–11). Around the Spring Festival
  workers leave 7–14 days before it (local workers later) and return 8–16 days after it; some never return,
  more of them when owed wages.
* **Payroll.** Earned = daily_wage × hours / 8 per day (exact in fen). For each month the team's payer
  decides on the 1st of the next month from a stress index (owner funding shock, project shock, contractor
  and chain weakness, illegal re-subcontracting, the year-end squeeze before the festival, noise, minus
  post-intervention supervision): healthy → full pay between the 18th and the 25th of the following month
  (sometimes a few days late) through the wage special account or bank, back pay of older arrears; strained →
  partial pay in instalments, older arrears paid piecemeal; distressed → nothing or a small advance, in cash
  or collected by the team leader. Some teams (more often under an illegal 再分包) run the common
  living-allowance scheme (a fixed 1,500–3,000 a month, the rest settled later), which the workers accept
  until a settlement fails. Settlements — year end (2–4 weeks before the festival), a worker's exit (paid on
  the day or within 5 days, so a month can be paid within itself), the team's end of work, project
  completion — each happen with a probability that falls with stress.
* **Collective disputes (truth).** The onset hazard comes from one of three *families* (``mechanism``), so
  that a scorer can be tested on a family it was not trained on (``mechanisms.py``); all read the same
  latent state and leave the same kinds of traces:

  - ``grievance`` (default): daily hazard per project rising with the owed workers (weighted by team tie type
    and living-allowance acceptance; in the 7 weeks before the festival everybody wants the year's wages and
    those discounts shrink) as a power law, the overdue amount and the age of the oldest overdue month,
    multiplied by the season (rising steeply over the 7 weeks before the festival, raised after the return),
    a project militancy factor and a cool-down after earlier disputes or interventions.
  - ``threshold``: tipping points. Each project has a latent tolerance (days past the pay day of the oldest
    overdue month, and overdue yuan per owed worker, log-normal around the family's medians); below both the
    hazard is a trickle, past either it steps up (scaled by the weighted owed workers). Weak season effect.
  - ``trigger``: disputes break out on discrete events while arrears are open — owed workers leaving without
    being settled, a team's failed final settlement as it winds down, a failed year-end settlement, the
    project's completion without a settlement. Each event adds tension (per owed worker concerned) that
    decays within days; the hazard saturates in it, plus a small background. Weak season effect; short
    brewing spells.

  ``vary_forms`` draws each family's constants (exponents, weights, season amplitude and shape, tolerances,
  decay, brewing length, hazard levels) from a stream of its own derived from the seed, so training seeds
  differ in form while every other draw of the county stays the same; ``SimulationSummary.forms`` records
  them. Contagion between projects is not offered: projects run one after another, so it could not be
  causal. At scale 1.0, seeds 1–4 give 17, 19, 48, 29 disputes (grievance), 14, 15, 31, 25 (threshold) and
  22, 20, 48, 28 (trigger).

  An onset (of any family) starts a "brewing" spell of 2–12 days (1–5 for ``trigger``; moved out of the days
  when the workers are home for the festival); the dispute happens at its end only if the project still has
  an overdue worker-month exactly as formats.md's wage check defines it (pay day the 25th of the following
  month before the date, more than one yuan unpaid).
  workers = max(10, owed workers); amount_owed = the overdue amount that day. After a dispute the arrears
  are cleared (fully in most cases) within 3–25 days and the project is supervised for a few months.
* **Reports.** Informants (ids like ``DP-0007`` by township) or anonymous senders report projects in arrears
  (Poisson, rate rising with owed workers and season), naming the project, its short name, the general
  contractor, the subcontractor or the team in varied wording, with project_code, employer, workers and
  amount filled only sometimes and noisily; escalation language (爬塔吊, 上访, 堵门, 拉横幅 …) during most
  brewing spells; reports of the incident after a dispute; some reports trigger a mediator intervention
  (part payment, shorter cool-down). Unrelated complaints (工伤, 社保, 辞退, 加班) against factories, shops and
  sites, rumours about healthy projects, and noise complete the file.

Not modelled: contagion between projects, informant coverage that differs by township, duplicate companies
under variant names in the structured files (variant short names appear in report texts only).

Modules: ``tables`` (reference tables and tunables), ``calendar`` (festival, weather, season), ``people``
(persons, crews, teams, roster rows), ``county`` (organisations, informants, the county), ``project`` (one
project's daily loop) with its concerns ``subcontracts``, ``staffing``, ``payroll``, ``disputes`` and
``reports`` (also the unrelated noise reports), ``mechanisms`` (the dispute-onset families), ``writer`` (the
CSV files and ``simulate_county``) and ``lockstep`` (all projects stepped together week by week, each with the
labour market the one-after-another run gave it, so that ``earlywarn.closed_loop`` can send mediators between
weeks: a visit to a project in arrears gets them paid with a probability, then supervision and a cool-down;
without visits it reproduces ``simulate_county``'s rows and disputes exactly).
"""

from earlywarn.simulation.calendar import spring_festival
from earlywarn.simulation.mechanisms import MECHANISMS, draw_forms
from earlywarn.simulation.tables import HEADERS, TOWNSHIPS
from earlywarn.simulation.writer import SimulationSummary, simulate_county

__all__ = ["MECHANISMS", "SimulationSummary", "draw_forms", "simulate_county", "spring_festival", "TOWNSHIPS",
           "HEADERS"]
