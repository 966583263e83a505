"""Reading CAMT.053 and MT940 statements into records, and refusing bad files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from dunning.core.bank import StatementError, read_statement

NS02 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
NS08 = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.08"


def _tx(party: str, amount: str = "", rmt: str = "", extra: str = "") -> str:
    amt = f'<Amt Ccy="EUR">{amount}</Amt>' if amount else ""
    refs = f"<Refs><EndToEndId>E2E-{amount or 'X'}</EndToEndId></Refs>"
    return f"<TxDtls>{amt}{refs}{party}{rmt}{extra}</TxDtls>"


def _entry(amount: str, ind: str, txs: str, ref: str, extra: str = "") -> str:
    return (
        f'<Ntry><NtryRef>{ref}</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>{ind}</CdtDbtInd>'
        f"{extra}<BookgDt><Dt>2026-11-02</Dt></BookgDt><NtryDtls>{txs}</NtryDtls></Ntry>"
    )


def _doc(ns: str, entries: str, ccy: str = "EUR") -> str:
    return (
        f'<?xml version="1.0"?><Document xmlns="{ns}"><BkToCstmrStmt><Stmt><Id>ST-1</Id>'
        f"<CreDtTm>2026-11-02T08:00:00+01:00</CreDtTm><Acct><Id><IBAN>NL91ABNA0417164300</IBAN>"
        f"</Id><Ccy>{ccy}</Ccy></Acct>{entries}</Stmt></BkToCstmrStmt></Document>"
    )


RF = (
    "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Cd>SCOR</Cd></CdOrPrtry><Issr>{issr}</Issr></Tp>"
    "<Ref>{ref}</Ref></CdtrRefInf></Strd></RmtInf>"
)
DBTR02 = (
    "<RltdPties><Dbtr><Nm>{n}</Nm></Dbtr>"
    "<DbtrAcct><Id><IBAN>NL20INGB0001234567</IBAN></Id></DbtrAcct></RltdPties>"
)
DBTR08 = "<RltdPties><Dbtr><Pty><Nm>{n}</Nm></Pty></Dbtr></RltdPties>"

CAMT02 = _doc(
    NS02,
    _entry(
        "100.00",
        "CRDT",
        _tx(DBTR02.format(n="Jansen BV"), rmt=RF.format(issr="ISO", ref="RF18539007547034")),
        "E1",
    )
    + _entry(
        "50.00",
        "CRDT",
        _tx(
            DBTR02.format(n="Kees"),
            "20.00",
            "<RmtInf><Ustrd>Factuur</Ustrd><Ustrd>2026-0042</Ustrd></RmtInf>",
        )
        + _tx(DBTR02.format(n="Piet"), "30.00", RF.format(issr="CUR", ref="1234567890123456")),
        "E2",
    )
    + _entry("12.50", "DBIT", _tx("<RltdPties><Cdtr><Nm>Supplier</Nm></Cdtr></RltdPties>"), "E3"),
)
CAMT08 = _doc(
    NS08,
    _entry("100.00", "DBIT", _tx(DBTR08.format(n="Jansen BV")), "R1", "<RvslInd>true</RvslInd>")
    + _entry(
        "40.00",
        "DBIT",
        _tx(DBTR08.format(n="Acme"), extra="<RtrInf><Rsn><Cd>AC04</Cd></Rsn></RtrInf>"),
        "R2",
    )
    + _entry(
        "5.00",
        "DBIT",
        "",
        "R3",
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>RRTN</SubFmlyCd></Fmly></Domn></BkTxCd>",
    ),
)
MT940 = """:20:STMT0001
:25:NL91ABNA0417164300
:28C:00001/001
:60F:C261101EUR1000,00
:61:2611021102C150,00NTRFEREF123//B2K02
:86:/EREF/E2E-77//CDTRREFTP//CD/SCOR/ISSR/CUR/CDTRREF/1234567890123456//NAME/J. J
ansen BV//IBAN/NL20INGB0001234567//REMI/Factuur 2026-0042/
:61:2611031103RD25,00NTRFNONREF
:86:Storno
:62F:C261103EUR1175,00
-
"""


def _write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def test_camt_02_reads_references_names_and_several_transactions(tmp_path: Path) -> None:
    [statement] = read_statement(_write(tmp_path, "s.xml", CAMT02))
    assert (statement.account_iban, statement.currency, statement.statement_id) == (
        "NL91ABNA0417164300",
        "EUR",
        "ST-1",
    )
    rf, kees, piet, debit = statement.lines
    assert rf.structured_reference == "RF18539007547034" and rf.amount == Decimal("100.00")
    assert rf.payer_name == "Jansen BV" and rf.payer_iban == "NL20INGB0001234567"
    assert (kees.amount, kees.remittance_text, kees.payer_name) == (
        Decimal("20.00"),
        "Factuur 2026-0042",
        "Kees",
    )
    assert (piet.amount, piet.structured_reference) == (Decimal("30.00"), "1234567890123456")
    assert piet.place == "s.xml: Stmt 1, Ntry 2, TxDtls 2"
    assert (
        debit.amount == Decimal("-12.50") and not debit.is_credit and debit.payer_name == "Supplier"
    )


def test_camt_08_reads_pty_name_reversal_and_returns(tmp_path: Path) -> None:
    [statement] = read_statement(_write(tmp_path, "s.xml", CAMT08))
    reversal, returned, coded = statement.lines
    assert reversal.is_reversal and reversal.payer_name == "Jansen BV" and reversal.amount < 0
    assert returned.is_return and coded.is_return and not returned.is_reversal


def test_keys_are_stable_across_reads_and_distinct(tmp_path: Path) -> None:
    for name, text in (("a.xml", CAMT02), ("b.sta", MT940)):
        path = _write(tmp_path, name, text)
        first = [line.key for s in read_statement(path) for line in s.lines]
        assert first == [line.key for s in read_statement(path) for line in s.lines]
        assert len(set(first)) == len(first)


def test_mt940_dutch_details(tmp_path: Path) -> None:
    [statement] = read_statement(_write(tmp_path, "s.sta", MT940))
    paid, storno = statement.lines
    assert (paid.payer_name, paid.payer_iban, paid.end_to_end_id) == (
        "J. Jansen BV",
        "NL20INGB0001234567",
        "E2E-77",
    )
    assert paid.structured_reference == "1234567890123456" and paid.place == "s.sta:5"
    assert paid.remittance_text == "Factuur 2026-0042" and paid.amount == Decimal("150.00")
    assert storno.is_reversal and storno.remittance_text == "Storno"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("cut.xml", CAMT02[:300], "not a complete XML document (line 1"),
        (
            "pain.xml",
            '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03">'
            "<CstmrCdtTrfInitn/></Document>",
            "is a pain.001.001.03 document, not a CAMT.053",
        ),
        ("ccy.xml", _doc(NS02, "", ccy="EUX"), "unknown currency 'EUX'"),
        ("noamt.xml", CAMT02.replace('<Amt Ccy="EUR">100.00</Amt>', ""), "Ntry 1: missing Amt"),
        (
            "nodate.xml",
            CAMT02.replace("<BookgDt><Dt>2026-11-02</Dt></BookgDt>", ""),
            "missing BookgDt/Dt",
        ),
        ("v9.xml", CAMT02.replace("001.02", "001.09"), "camt.053.001.02 to camt.053.001.08"),
        (
            "entity.xml",
            '<!DOCTYPE d [<!ENTITY e "x">]><Document>&e;</Document>',
            "uses a DTD or entities",
        ),
        ("doc.pdf", b"%PDF-1.4\n...", "is a PDF"),
        ("list.csv", "iban,amount\nNL91,1\n", "not a bank statement file"),
        ("empty.sta", "", "is empty"),
        ("ccy.sta", MT940.replace("EUR1000", "XYZ1000"), "unknown currency 'XYZ'"),
        (
            "bad.sta",
            MT940.replace(":61:2611031103RD", ":61:26XX031103RD"),
            "bad.sta:8: this MT940 line",
        ),
    ],
)
def test_bad_files_give_one_line_and_exit_code_2(
    tmp_path: Path,
    name: str,
    content: str | bytes,
    expected: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(StatementError) as caught:
        read_statement(_write(tmp_path, name, content))
    assert expected in str(caught.value) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 2
    assert capsys.readouterr().err == ""


def test_latin9_camt_from_a_bank_that_mixes_encodings_is_read(tmp_path: Path) -> None:
    data = CAMT02.replace("Kees", "Kees Müller").encode("iso-8859-15")
    [statement] = read_statement(_write(tmp_path, "abn.xml", data))
    assert statement.lines[1].payer_name == "Kees Müller"


def test_statement_of_another_account_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StatementError, match="not NL02RABO0123456789"):
        read_statement(_write(tmp_path, "s.xml", CAMT02), own_iban="NL02RABO0123456789")
