//! The "done when" scenario, as a new user would go through it:
//! start the shell on the default database, create tables and indexes,
//! load 100,000 rows, query them, see EXPLAIN choose the index, quit, and
//! reopen with everything still there.
//!
//! `SHELL_SCENARIO_ROWS` changes the row count (default 100,000; it must be
//! a multiple of 10). The same test runs in release with
//! `cargo test --release -p sql-shell --test shell_new_user`.

mod common;

use common::Env;

fn rows() -> u64 {
    std::env::var("SHELL_SCENARIO_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

/// The value of the only row of a one-column result printed without
/// headers.
fn scalar(out: &str) -> String {
    out.trim().to_string()
}

#[test]
fn create_load_query_explain_quit_reopen() {
    let n = rows();
    assert!(n % 10 == 0 && n <= 100_000);
    let env = Env::new();

    // Session 1: schema and 100,000 customers from a generated source
    // (a cross join of a ten-row table), orders from a generated script of
    // multi-row INSERTs.
    let mut script = String::from(
        "create table digits (d integer primary key);\n\
         insert into digits values (0),(1),(2),(3),(4),(5),(6),(7),(8),(9);\n\
         create table customers (\n  id integer primary key,\n  name text not null,\n  city text not null,\n  signup integer,\n  score real\n);\n\
         create unique index customers_by_name on customers (name);\n\
         create index customers_by_city on customers (city, signup);\n",
    );
    script.push_str(&format!(
        "insert into customers\n  select id, 'customer ' || id, 'city' || (id % 10), id % 1000, id * 0.5\n  from (select a.d + 10 * b.d + 100 * c.d + 1000 * e.d + 10000 * f.d + 1 as id\n        from digits a, digits b, digits c, digits e, digits f) as g\n  where id <= {n};\n"
    ));
    script.push_str(
        "create table orders (id integer primary key, customer_id integer not null, amount real not null);\n\
         create index orders_by_customer on orders (customer_id);\n",
    );
    let orders = n / 10;
    let mut id = 0;
    while id < orders {
        script.push_str("insert into orders values");
        for k in 0..500.min(orders - id) {
            let o = id + k + 1;
            let sep = if k == 0 { " " } else { ", " };
            script.push_str(&format!("{sep}({o}, {}, {}.25)", o % 1000 + 1, o % 97));
        }
        script.push_str(";\n");
        id += 500;
    }
    script.push_str(".quit\n");
    let r = env.run(&["-q"], &script).ok();
    assert!(r.stdout.is_empty(), "-q prints no tags: {r:#?}");

    // Session 2: queries, the plan, integrity, on the same default database.
    let queries = format!(
        "select count(*) from customers;\n\
         select count(*) from customers where city = 'city3';\n\
         select name from customers where name = 'customer 4242';\n\
         select count(*) from customers where city = 'city7' and signup between 100 and 199;\n\
         select sum(amount) from orders where customer_id = 42;\n\
         select count(*) from customers c join orders o on o.customer_id = c.id where c.city = 'city2';\n\
         select max(id) from customers where id > {};\n\
         explain select * from customers where city = 'city3' and signup between 10 and 20;\n\
         explain select name from customers where name = 'customer 7';\n\
         explain select o.amount from customers c join orders o on o.customer_id = c.id where c.id = 5;\n\
         .check\n",
        n - 5
    );
    let r = env.run(&["--no-header"], &queries).ok();
    let mut lines = r.stdout.lines();
    let mut next = || lines.next().unwrap_or_default().to_string();
    assert_eq!(scalar(&next()), n.to_string(), "count: {r:#?}");
    assert_eq!(scalar(&next()), (n / 10).to_string(), "city3");
    assert_eq!(
        scalar(&next()),
        if n >= 4242 { "customer 4242" } else { "" }.to_string()
    );
    // city7 means id % 10 == 7; signup = id % 1000 in [100, 199] holds for
    // ten values of id % 1000, one in ten of them ending in 7.
    let expected_city7 = (1..=n)
        .filter(|i| i % 10 == 7 && (100..=199).contains(&(i % 1000)))
        .count();
    assert_eq!(scalar(&next()), expected_city7.to_string(), "city7 range");
    let expected_sum: f64 = (1..=orders)
        .filter(|o| o % 1000 + 1 == 42)
        .map(|o| (o % 97) as f64 + 0.25)
        .sum();
    let got_sum: f64 = scalar(&next()).parse().unwrap();
    assert!(
        (got_sum - expected_sum).abs() < 1e-6,
        "{got_sum} vs {expected_sum}"
    );
    let expected_join = (1..=orders).filter(|o| (o % 1000 + 1) % 10 == 2).count();
    assert_eq!(scalar(&next()), expected_join.to_string(), "join");
    assert_eq!(scalar(&next()), n.to_string(), "max id");
    let rest: Vec<String> = std::iter::from_fn(|| {
        let l = next();
        (!l.is_empty()).then_some(l)
    })
    .collect();
    let plan = rest.join("\n");
    assert!(
        plan.contains("IndexRange customers_by_city"),
        "EXPLAIN chooses the index: {plan}"
    );
    assert!(plan.contains("customers_by_name"), "{plan}");
    assert!(plan.contains("orders_by_customer"), "{plan}");
    assert!(
        plan.contains(": ok") && plan.contains(&format!("{} rows", n + n / 10 + 10)),
        "integrity check: {plan}"
    );
}
