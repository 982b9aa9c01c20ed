//! Bound expressions: the planner's form of a SQL expression.
//!
//! Names are resolved to positions in the input row (or, for correlated
//! subqueries, in an enclosing query's row), comparisons carry the affinity
//! SQLite would apply to their operands, and subqueries are referred to by
//! their index in the statement's list of subplans. Evaluation lives in
//! [`crate::exec::eval`].

use crate::value::Value;
use crate::value::affinity::Affinity;
use crate::value::arith::ArithOp;
use crate::value::cast::CastTarget;

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `<>` / `!=`
    NotEq,
    /// `<`
    Lt,
    /// `<=`
    LtEq,
    /// `>`
    Gt,
    /// `>=`
    GtEq,
}

impl CmpOp {
    /// The operator with its operands swapped (`a < b` is `b > a`).
    pub fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::LtEq => CmpOp::GtEq,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::GtEq => CmpOp::LtEq,
            o => o,
        }
    }

    /// The SQL spelling.
    pub fn symbol(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::NotEq => "<>",
            CmpOp::Lt => "<",
            CmpOp::LtEq => "<=",
            CmpOp::Gt => ">",
            CmpOp::GtEq => ">=",
        }
    }
}

/// A scalar function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Func {
    /// `abs(x)`
    Abs,
    /// `length(x)`
    Length,
    /// `lower(x)`
    Lower,
    /// `upper(x)`
    Upper,
    /// `substr(x, start[, len])`
    Substr,
    /// `coalesce(x, y, ...)` / `ifnull(x, y)`
    Coalesce,
    /// `nullif(x, y)`
    NullIf,
    /// `round(x[, digits])`
    Round,
    /// `typeof(x)`
    TypeOf,
    /// `trim(x[, chars])`
    Trim,
    /// `ltrim(x[, chars])`
    LTrim,
    /// `rtrim(x[, chars])`
    RTrim,
    /// `replace(x, from, to)`
    Replace,
    /// `instr(x, y)`
    Instr,
    /// Scalar `min(x, y, ...)`
    MinOf,
    /// Scalar `max(x, y, ...)`
    MaxOf,
    /// `hex(x)`
    Hex,
    /// `iif(c, a, b)`
    Iif,
    /// `sign(x)`
    Sign,
}

/// An aggregate function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AggFunc {
    /// `count(*)`
    CountStar,
    /// `count(x)`
    Count,
    /// `sum(x)`: integer while all inputs are integers (error on overflow).
    Sum,
    /// `total(x)`: always real.
    Total,
    /// `avg(x)`
    Avg,
    /// `min(x)`
    Min,
    /// `max(x)`
    Max,
    /// `group_concat(x[, sep])`
    GroupConcat,
    /// A bare column in an aggregate query: the value from the group's last
    /// row (SQLite allows these).
    AnyValue,
}

/// One aggregate call of a query.
#[derive(Clone, Debug, PartialEq)]
pub struct AggCall {
    /// The function.
    pub func: AggFunc,
    /// Its arguments over the aggregate's input row.
    pub args: Vec<Expr>,
    /// `DISTINCT` inside the call.
    pub distinct: bool,
}

/// Which row a column reference reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Slot {
    /// The current input row at this position.
    Local(usize),
    /// An enclosing query's row: `depth` 1 is the innermost enclosing query.
    Outer {
        /// How many query levels up.
        depth: usize,
        /// Position in that query's row.
        index: usize,
    },
}

/// A bound expression.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A constant.
    Literal(Value),
    /// A column of the input row or of an enclosing query's row.
    Column(Slot),
    /// `-x`
    Negate(Box<Expr>),
    /// `NOT x` (three-valued).
    Not(Box<Expr>),
    /// `~x`
    BitNot(Box<Expr>),
    /// `+x`: the value unchanged; kept so that `+col` has no affinity.
    Plus(Box<Expr>),
    /// Arithmetic.
    Arith(ArithOp, Box<Expr>, Box<Expr>),
    /// Bitwise and shifts: `&`, `|`, `<<`, `>>`.
    Bit(BitOp, Box<Expr>, Box<Expr>),
    /// `a || b`
    Concat(Box<Expr>, Box<Expr>),
    /// `a AND b` (three-valued).
    And(Box<Expr>, Box<Expr>),
    /// `a OR b` (three-valued).
    Or(Box<Expr>, Box<Expr>),
    /// A comparison with the affinity applied to both operands.
    Compare {
        /// The operator.
        op: CmpOp,
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
        /// Affinity applied to both operands first.
        affinity: Affinity,
    },
    /// `a IS b` / `a IS NOT b` (NULL-safe equality).
    Is {
        /// Left operand.
        left: Box<Expr>,
        /// Right operand.
        right: Box<Expr>,
        /// `IS NOT`.
        negated: bool,
        /// Affinity applied to both operands first.
        affinity: Affinity,
    },
    /// `x BETWEEN low AND high` when `x` is not a plain column or literal
    /// (those become two comparisons, which key ranges understand): `x`
    /// is evaluated once.
    Between {
        /// The tested value.
        expr: Box<Expr>,
        /// Lower bound (inclusive).
        low: Box<Expr>,
        /// Upper bound (inclusive).
        high: Box<Expr>,
        /// Affinity of `x >= low`.
        low_aff: Affinity,
        /// Affinity of `x <= high`.
        high_aff: Affinity,
    },
    /// `x IS NULL` / `x IS NOT NULL`.
    IsNull(Box<Expr>, bool),
    /// `x [NOT] IN (list)`.
    InList {
        /// The tested value.
        expr: Box<Expr>,
        /// The list.
        list: Vec<Expr>,
        /// `NOT IN`.
        negated: bool,
        /// Affinity applied to the value and each element.
        affinity: Affinity,
    },
    /// `x [NOT] IN (SELECT ...)`.
    InSubquery {
        /// The tested value.
        expr: Box<Expr>,
        /// Index of the subplan.
        subquery: usize,
        /// `NOT IN`.
        negated: bool,
        /// Affinity applied to the value and each result.
        affinity: Affinity,
    },
    /// `[NOT] EXISTS (SELECT ...)`.
    Exists {
        /// Index of the subplan.
        subquery: usize,
        /// `NOT EXISTS`.
        negated: bool,
    },
    /// `(SELECT ...)` as a value: its first row's first column, or NULL.
    ScalarSubquery(usize),
    /// `x [NOT] LIKE pattern [ESCAPE e]` (ASCII case-insensitive).
    Like {
        /// The tested value.
        expr: Box<Expr>,
        /// The pattern.
        pattern: Box<Expr>,
        /// The escape character.
        escape: Option<Box<Expr>>,
        /// `NOT LIKE`.
        negated: bool,
    },
    /// `CASE [operand] WHEN .. THEN .. [ELSE ..] END`.
    Case {
        /// The operand compared with each WHEN value, if any.
        operand: Option<Box<Expr>>,
        /// WHEN/THEN pairs.
        whens: Vec<(Expr, Expr)>,
        /// ELSE.
        otherwise: Option<Box<Expr>>,
        /// Affinity of comparisons operand = when.
        affinity: Affinity,
    },
    /// `CAST(x AS type)`.
    Cast(Box<Expr>, CastTarget),
    /// A scalar function call.
    Function(Func, Vec<Expr>),
}

/// A bitwise operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BitOp {
    /// `&`
    And,
    /// `|`
    Or,
    /// `<<`
    ShiftLeft,
    /// `>>`
    ShiftRight,
}

impl Expr {
    /// A boxed literal.
    pub fn lit(v: Value) -> Expr {
        Expr::Literal(v)
    }

    /// True when the expression reads no row and no subquery: it can be
    /// evaluated once at plan time.
    pub fn is_constant(&self) -> bool {
        let mut constant = true;
        self.walk(&mut |e| {
            if matches!(
                e,
                Expr::Column(_)
                    | Expr::InSubquery { .. }
                    | Expr::Exists { .. }
                    | Expr::ScalarSubquery(_)
            ) {
                constant = false;
            }
        });
        constant
    }

    /// True when the expression reads only enclosing queries' rows and
    /// constants (not the current row, not subqueries): it can be evaluated
    /// when a scan opens, as the bound of a key range.
    pub fn is_scan_constant(&self) -> bool {
        let mut ok = true;
        self.walk(&mut |e| {
            if matches!(
                e,
                Expr::Column(Slot::Local(_))
                    | Expr::InSubquery { .. }
                    | Expr::Exists { .. }
                    | Expr::ScalarSubquery(_)
            ) {
                ok = false;
            }
        });
        ok
    }

    /// Every local column position the expression reads.
    pub fn local_columns(&self, out: &mut Vec<usize>) {
        self.walk(&mut |e| {
            if let Expr::Column(Slot::Local(i)) = e {
                out.push(*i);
            }
        });
    }

    /// Visit this expression and every sub-expression (not into subplans).
    pub fn walk(&self, f: &mut dyn FnMut(&Expr)) {
        crate::limits::deep(|| self.walk_level(f))
    }

    fn walk_level(&self, f: &mut dyn FnMut(&Expr)) {
        f(self);
        match self {
            Expr::Literal(_) | Expr::Column(_) | Expr::Exists { .. } | Expr::ScalarSubquery(_) => {}
            Expr::Negate(a) | Expr::Not(a) | Expr::BitNot(a) | Expr::Plus(a) => a.walk(f),
            Expr::IsNull(a, _) | Expr::Cast(a, _) => a.walk(f),
            Expr::InSubquery { expr, .. } => expr.walk(f),
            Expr::Arith(_, a, b)
            | Expr::Bit(_, a, b)
            | Expr::Concat(a, b)
            | Expr::And(a, b)
            | Expr::Or(a, b)
            | Expr::Compare {
                left: a, right: b, ..
            }
            | Expr::Is {
                left: a, right: b, ..
            } => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Between {
                expr, low, high, ..
            } => {
                expr.walk(f);
                low.walk(f);
                high.walk(f);
            }
            Expr::InList { expr, list, .. } => {
                expr.walk(f);
                for e in list {
                    e.walk(f);
                }
            }
            Expr::Like {
                expr,
                pattern,
                escape,
                ..
            } => {
                expr.walk(f);
                pattern.walk(f);
                if let Some(e) = escape {
                    e.walk(f);
                }
            }
            Expr::Case {
                operand,
                whens,
                otherwise,
                ..
            } => {
                if let Some(o) = operand {
                    o.walk(f);
                }
                for (w, t) in whens {
                    w.walk(f);
                    t.walk(f);
                }
                if let Some(o) = otherwise {
                    o.walk(f);
                }
            }
            Expr::Function(_, args) => {
                for a in args {
                    a.walk(f);
                }
            }
        }
    }

    /// Rewrite every sub-expression bottom-up with `f`.
    pub fn transform(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        crate::limits::deep(|| self.transform_level(f))
    }

    fn transform_level(self, f: &mut dyn FnMut(Expr) -> Expr) -> Expr {
        let bx = |e: Box<Expr>, f: &mut dyn FnMut(Expr) -> Expr| Box::new(e.transform(f));
        let e = match self {
            Expr::Negate(a) => Expr::Negate(bx(a, f)),
            Expr::Not(a) => Expr::Not(bx(a, f)),
            Expr::BitNot(a) => Expr::BitNot(bx(a, f)),
            Expr::Plus(a) => Expr::Plus(bx(a, f)),
            Expr::IsNull(a, n) => Expr::IsNull(bx(a, f), n),
            Expr::Cast(a, t) => Expr::Cast(bx(a, f), t),
            Expr::Arith(op, a, b) => Expr::Arith(op, bx(a, f), bx(b, f)),
            Expr::Bit(op, a, b) => Expr::Bit(op, bx(a, f), bx(b, f)),
            Expr::Concat(a, b) => Expr::Concat(bx(a, f), bx(b, f)),
            Expr::And(a, b) => Expr::And(bx(a, f), bx(b, f)),
            Expr::Or(a, b) => Expr::Or(bx(a, f), bx(b, f)),
            Expr::Compare {
                op,
                left,
                right,
                affinity,
            } => Expr::Compare {
                op,
                left: bx(left, f),
                right: bx(right, f),
                affinity,
            },
            Expr::Is {
                left,
                right,
                negated,
                affinity,
            } => Expr::Is {
                left: bx(left, f),
                right: bx(right, f),
                negated,
                affinity,
            },
            Expr::Between {
                expr,
                low,
                high,
                low_aff,
                high_aff,
            } => Expr::Between {
                expr: bx(expr, f),
                low: bx(low, f),
                high: bx(high, f),
                low_aff,
                high_aff,
            },
            Expr::InList {
                expr,
                list,
                negated,
                affinity,
            } => Expr::InList {
                expr: bx(expr, f),
                list: list.into_iter().map(|e| e.transform(f)).collect(),
                negated,
                affinity,
            },
            Expr::InSubquery {
                expr,
                subquery,
                negated,
                affinity,
            } => Expr::InSubquery {
                expr: bx(expr, f),
                subquery,
                negated,
                affinity,
            },
            Expr::Like {
                expr,
                pattern,
                escape,
                negated,
            } => Expr::Like {
                expr: bx(expr, f),
                pattern: bx(pattern, f),
                escape: escape.map(|e| bx(e, f)),
                negated,
            },
            Expr::Case {
                operand,
                whens,
                otherwise,
                affinity,
            } => Expr::Case {
                operand: operand.map(|e| bx(e, f)),
                whens: whens
                    .into_iter()
                    .map(|(w, t)| (w.transform(f), t.transform(f)))
                    .collect(),
                otherwise: otherwise.map(|e| bx(e, f)),
                affinity,
            },
            Expr::Function(func, args) => {
                Expr::Function(func, args.into_iter().map(|e| e.transform(f)).collect())
            }
            leaf => leaf,
        };
        f(e)
    }

    /// Split a conjunction into its terms.
    pub fn conjuncts(self, out: &mut Vec<Expr>) {
        crate::limits::deep(|| self.conjuncts_level(out))
    }

    fn conjuncts_level(self, out: &mut Vec<Expr>) {
        match self {
            Expr::And(a, b) => {
                a.conjuncts(out);
                b.conjuncts(out);
            }
            e => out.push(e),
        }
    }

    /// Join terms with AND (`None` for no terms).
    pub fn and_all(terms: Vec<Expr>) -> Option<Expr> {
        terms
            .into_iter()
            .reduce(|a, b| Expr::And(Box::new(a), Box::new(b)))
    }

    /// Shift every local column position by `offset` (used when an
    /// expression over one table moves into a join's combined row, or out of
    /// it).
    pub fn shift_columns(self, offset: isize) -> Expr {
        self.transform(&mut |e| match e {
            Expr::Column(Slot::Local(i)) => {
                Expr::Column(Slot::Local((i as isize + offset).max(0) as usize))
            }
            other => other,
        })
    }

    /// Every subquery index the expression refers to.
    pub fn subqueries(&self, out: &mut Vec<usize>) {
        self.walk(&mut |e| match e {
            Expr::InSubquery { subquery, .. }
            | Expr::Exists { subquery, .. }
            | Expr::ScalarSubquery(subquery) => out.push(*subquery),
            _ => {}
        });
    }
}
