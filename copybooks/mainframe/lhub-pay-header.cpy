      * LHUB.PAY.<core>.D<yymmdd>.S<nn>: the hub's posting request to the
      * mainframe, one file per loan core, business date and sequence.
      * RECFM=FB LRECL=200, EBCDIC (code page 037 unless configured).
      * A header, one detail per payment in payment-id order, a trailer.
      * Positions are 1-based. Text left-justified and space-padded,
      * FILLER spaces, unsigned numbers zoned (zone F), signed amounts
      * packed decimal with sign C (positive) or D (negative).
      *
      * Header record (REC-TYPE 'H'), batch/request-header-record.ts.
       01  PAY-HEADER-RECORD.
      *        1       'H'
           05  REC-TYPE            PIC X(1).
      *        2-45    the dataset name of this file
           05  FILE-NAME           PIC X(44).
      *        46-48   CSH MTG VEH
           05  CORE-CODE           PIC X(3).
      *        49-56   YYYYMMDD
           05  BUSINESS-DATE       PIC 9(8).
      *        57-58   01 the night's file, 02.. late payments and resends
           05  SEQUENCE            PIC 9(2).
      *        59-72   YYYYMMDDHHMMSS in the bank's time zone
           05  CREATED-AT          PIC 9(14).
      *        73-200
           05  FILLER              PIC X(128).
