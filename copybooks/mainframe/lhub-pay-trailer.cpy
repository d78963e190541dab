      * Trailer record of the posting request (REC-TYPE 'T');
      * batch/request-trailer-record.ts. Totals are computed from the
      * details when writing and recomputed when reading.
       01  PAY-TRAILER-RECORD.
      *        1       'T'
           05  REC-TYPE            PIC X(1).
      *        2-10    number of detail records
           05  RECORD-COUNT        PIC 9(9).
      *        11-19   sum of AMOUNT of the PEN details, 9 bytes
           05  TOTAL-PEN           PIC S9(15)V99 COMP-3.
      *        20-28   sum of AMOUNT of the USD details, 9 bytes
           05  TOTAL-USD           PIC S9(15)V99 COMP-3.
      *        29-46   sum of LOAN-NUMBER of the details modulo 10**18
           05  HASH-TOTAL          PIC 9(18).
      *        47-200
           05  FILLER              PIC X(154).
