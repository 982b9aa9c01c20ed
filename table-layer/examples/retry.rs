//! Transactions retried on conflict: four threads move money between
//! accounts at once; conflicting commits fail with a retryable error and run
//! again, and the total never changes.
//!
//! Run with `cargo run -p table-layer --example retry`.

use std::sync::Arc;

use table_layer::{ColumnDef, DataType, Database, Error, TableSpec, Transaction, Value};

const ACCOUNTS: i64 = 5;

fn balance(txn: &Transaction, id: i64) -> Result<i64, Error> {
    let row = txn
        .get("accounts", &[Value::Integer(id)])?
        .ok_or_else(|| Error::InvalidArgument(format!("no account {id}")))?;
    match row.values[1] {
        Value::Integer(b) => Ok(b),
        _ => Err(Error::InvalidArgument("balance is not an integer".into())),
    }
}

fn transfer(db: &Database, from: i64, to: i64, amount: i64) -> Result<usize, Error> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut txn = db.begin()?;
        let result = (|| {
            let (a, b) = (balance(&txn, from)?, balance(&txn, to)?);
            txn.update(
                "accounts",
                &[from.into()],
                &[from.into(), (a - amount).into()],
            )?;
            txn.update("accounts", &[to.into()], &[to.into(), (b + amount).into()])?;
            Ok(())
        })()
        .and_then(|()| txn.commit());
        match result {
            Ok(()) => return Ok(attempts),
            // Another transfer committed first: nothing of ours was written.
            Err(e) if e.is_retryable() => continue,
            Err(e) => return Err(e),
        }
    }
}

fn main() -> Result<(), Error> {
    let db = Database::open(Arc::new(kv_api::MemStore::new()))?;
    db.create_table(
        TableSpec::new("accounts")
            .column(ColumnDef::new("id", DataType::Integer))
            .column(ColumnDef::new("balance", DataType::Integer).not_null())
            .primary_key(["id"]),
    )?;
    db.run_with_retry(3, |txn| {
        for id in 0..ACCOUNTS {
            txn.insert("accounts", &[id.into(), 100.into()])?;
        }
        Ok(())
    })?;

    let workers: Vec<_> = (0..4)
        .map(|w| {
            let db = db.clone();
            std::thread::spawn(move || -> Result<usize, Error> {
                let mut retries = 0;
                for i in 0..200 {
                    let from = (w + i) % ACCOUNTS;
                    let to = (from + 1) % ACCOUNTS;
                    retries += transfer(&db, from, to, 1)? - 1;
                }
                Ok(retries)
            })
        })
        .collect();
    let mut retries = 0;
    for w in workers {
        retries += w.join().expect("worker panicked")?;
    }

    let txn = db.begin()?;
    let mut total = 0;
    for id in 0..ACCOUNTS {
        total += balance(&txn, id)?;
    }
    println!("800 transfers, {retries} retried after a conflict; total = {total}");
    assert_eq!(total, 100 * ACCOUNTS);
    Ok(())
}
